"""Notifications: the inbox, its e-mail copy, and who may see what.

Rules: a notification is its recipient's alone on every door (list, show,
API, export); an event (dedupe key) reaches a user once, even when two
workers send it at the same moment; e-mail goes out only after the commit,
only when a mail server is configured, and a mail failure breaks nothing.
"""
import logging
import smtplib

import pytest

from app.extensions import db
from app.models.notifications import Notification
from app.services import notifications as service
from app.services.errors import RecordNotVisible
from app.services.notifications import mark_all_read, mark_read, notify, notify_role, unread_count
from tests.conftest import api_token


class FakeSMTP:
    """Stands in for smtplib.SMTP; records what would have been sent."""

    sent = []
    fail_on_connect = False
    fail_on_send = False

    def __init__(self, host, port, timeout=None):
        if FakeSMTP.fail_on_connect:
            raise OSError("connection refused")
        self.host, self.port = host, port

    def starttls(self):
        pass

    def login(self, username, password):
        pass

    def send_message(self, message):
        if FakeSMTP.fail_on_send:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        FakeSMTP.sent.append(message)

    def quit(self):
        pass


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.sent, FakeSMTP.fail_on_connect, FakeSMTP.fail_on_send = [], False, False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


@pytest.fixture
def people(make_user):
    return {
        "alice": make_user("FrontDesk", username="alice"),
        "bob": make_user("FrontDesk", username="bob"),
        "carol": make_user("ServiceSupervisor", username="carol"),
        "admin": make_user("Admin", username="boss"),
    }


def _add(app, user, subject, read=False, body="正文"):
    with app.app_context():
        (notification,) = notify(user.get(), subject, body, link="/deadlineview/list/")
        if read:
            notification.read_at = notification.created_at
        db.session.commit()
        return notification.id


def _rows(user_id=None):
    query = db.session.query(Notification)
    if user_id is not None:
        query = query.filter_by(user_id=user_id)
    return query.order_by(Notification.id).all()


# ---------------------------------------------------------------------------
# Sending and dedupe
# ---------------------------------------------------------------------------

def test_notify_adds_one_row_per_user_and_dedupes_per_user(app, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    with app.app_context():
        added = notify([alice.get(), bob.get(), alice.get(), None], "主题", "正文",
                       dedupe_key="event:1")
        assert sorted(n.user_id for n in added) == sorted([alice.id, bob.id])
        db.session.commit()
        assert notify([alice.get(), bob.get()], "主题", "正文", dedupe_key="event:1") == []
        again = notify([alice.get(), carol.get()], "主题", "正文", dedupe_key="event:1")
        assert [n.user_id for n in again] == [carol.id]
        # Without a key, every call notifies.
        notify(alice.get(), "主题", "正文")
        notify(alice.get(), "主题", "正文")
        db.session.commit()
        assert len(_rows(alice.id)) == 3
        assert len(_rows(bob.id)) == 1


def test_concurrent_duplicate_insert_fails_harmlessly_inside_its_savepoint(app, people, monkeypatch):
    alice, bob = people["alice"], people["bob"]
    with app.app_context():
        notify(alice.get(), "已发", "正文", dedupe_key="deadline:7:reminder")
        db.session.commit()
    with app.app_context():
        # The other worker's row is invisible to our pre-check: only the constraint stops us.
        monkeypatch.setattr(service, "_already_notified", lambda user_id, key: False)
        earlier = notify(bob.get(), "同一事务中更早的通知", "正文")
        added = notify([alice.get(), bob.get()], "提醒", "正文", dedupe_key="deadline:7:reminder")
        assert [n.user_id for n in added] == [bob.id]
        db.session.commit()
        assert earlier[0].id is not None
    with app.app_context():
        assert [n.subject for n in _rows(alice.id)] == ["已发"]
        assert sorted(n.subject for n in _rows(bob.id)) == ["同一事务中更早的通知", "提醒"]


def test_a_savepoint_first_in_the_transaction_still_rolls_back_with_it(app, people):
    # On SQLite a SAVEPOINT opened before any write became the outer transaction and
    # committed on release; the service opens the transaction first.
    with app.app_context():
        notify(people["alice"].get(), "不应保存", "正文", dedupe_key="event:rolled-back")
        db.session.rollback()
    with app.app_context():
        assert _rows() == []


def test_notify_role_reaches_every_active_holder(app, people, make_user):
    other_supervisor = make_user("ServiceSupervisor")
    with app.app_context():
        added = notify_role("ServiceSupervisor", "主题", "正文", dedupe_key="role:1")
        db.session.commit()
        assert sorted(n.user_id for n in added) == sorted([people["carol"].id, other_supervisor.id])


@pytest.mark.parametrize("link", ["http://example.com/x", "//example.com/x", "javascript:alert(1)",
                                  "deadlineview/list/"])
def test_a_link_must_be_a_path_inside_the_app(ctx, people, link):
    with pytest.raises(ValueError):
        notify(people["alice"].get(), "主题", "正文", link=link)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------

def test_mark_read_only_own_notification(app, people):
    mine = _add(app, people["alice"], "给爱丽丝")
    with app.app_context():
        for intruder in ("bob", "admin"):
            with pytest.raises(RecordNotVisible):
                mark_read(mine, people[intruder].get())
        with pytest.raises(RecordNotVisible):
            mark_read(999999, people["alice"].get())
        assert db.session.get(Notification, mine).read_at is None
        assert mark_read(mine, people["alice"].get()).read_at is not None


def test_unread_count_and_mark_all_read(app, people):
    alice = people["alice"]
    _add(app, alice, "一")
    _add(app, alice, "二")
    _add(app, alice, "三", read=True)
    _add(app, people["bob"], "别人的")
    with app.app_context():
        assert unread_count(alice.get()) == 2
        assert mark_all_read(alice.get()) == 2
        assert unread_count(alice.get()) == 0
        assert unread_count(people["bob"].get()) == 1


# ---------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------

def test_email_is_sent_after_commit_when_a_mail_server_is_configured(app, people, fake_smtp):
    app.config.update(MAIL_SERVER="smtp.example.com", MAIL_DEFAULT_SENDER="cs@example.com",
                      PUBLIC_BASE_URL="https://cs.example.com")
    with app.app_context():
        (notification,) = notify(people["alice"].get(), "截止提醒", "请在今天内处理。",
                                 link="/absenceview/show/3", dedupe_key="deadline:3:reminder")
        # Another savepoint commits inside the transaction: still nothing is sent.
        notify(people["bob"].get(), "另一条", "正文", dedupe_key="deadline:3:reminder")
        assert fake_smtp.sent == []
        db.session.commit()
        assert [message["To"] for message in fake_smtp.sent] == [
            "alice@example.com", "bob@example.com"]
        message = fake_smtp.sent[0]
        assert message["To"] == "alice@example.com"
        assert message["Subject"] == "截止提醒"
        assert "https://cs.example.com/absenceview/show/3" in message.get_content()
        db.session.expire_all()
        assert db.session.get(Notification, notification.id).emailed_at is not None
        # A later commit does not mail them again.
        db.session.commit()
        assert len(fake_smtp.sent) == 2


def test_no_email_without_a_mail_server(app, people, fake_smtp):
    app.config["MAIL_SERVER"] = None
    with app.app_context():
        (notification,) = notify(people["alice"].get(), "主题", "正文")
        db.session.commit()
        assert fake_smtp.sent == []
        assert db.session.get(Notification, notification.id).emailed_at is None


def test_no_email_for_a_transaction_that_rolls_back(app, people, fake_smtp):
    app.config["MAIL_SERVER"] = "smtp.example.com"
    with app.app_context():
        notify(people["alice"].get(), "主题", "正文")
        db.session.rollback()
        db.session.commit()
        assert fake_smtp.sent == []


@pytest.mark.parametrize("failure", ["fail_on_connect", "fail_on_send"])
def test_a_mail_failure_is_logged_and_breaks_nothing(app, people, fake_smtp, caplog, failure):
    app.config["MAIL_SERVER"] = "smtp.example.com"
    setattr(fake_smtp, failure, True)
    with app.app_context(), caplog.at_level(logging.ERROR):
        (notification,) = notify(people["alice"].get(), "主题", "正文")
        db.session.commit()
        notification_id = notification.id
    with app.app_context():
        stored = db.session.get(Notification, notification_id)
        assert stored is not None and stored.emailed_at is None
    assert any(record.levelno >= logging.ERROR for record in caplog.records)


def test_email_through_the_web_after_the_request_commits(app, client, login_as, people, fake_smtp):
    # Marking read commits a transaction with no notification: nothing is mailed.
    app.config["MAIL_SERVER"] = "smtp.example.com"
    mine = _add(app, people["alice"], "网页")
    assert len(fake_smtp.sent) == 1
    login_as(people["alice"])
    assert client.post(f"/notificationview/mark_read/{mine}").status_code == 302
    assert len(fake_smtp.sent) == 1


# ---------------------------------------------------------------------------
# Screens and API: own rows only
# ---------------------------------------------------------------------------

def test_inbox_is_visible_only_to_its_owner(app, client, login_as, people):
    alices = _add(app, people["alice"], "爱丽丝的私信")
    bobs = _add(app, people["bob"], "鲍勃的私信")
    login_as(people["bob"])
    page = client.get("/notificationview/list/").get_data(as_text=True)
    assert "鲍勃的私信" in page and "爱丽丝的私信" not in page
    assert client.get(f"/notificationview/show/{alices}").status_code == 404
    assert client.post(f"/notificationview/mark_read/{alices}").status_code == 404
    assert client.get(f"/notificationview/show/{bobs}").status_code == 200
    client.get("/logout/")
    # Administrators see every record, but an inbox stays personal.
    login_as(people["admin"])
    assert "爱丽丝的私信" not in client.get("/notificationview/list/").get_data(as_text=True)
    assert client.get(f"/notificationview/show/{alices}").status_code == 404
    with app.app_context():
        assert db.session.get(Notification, alices).read_at is None


def test_api_returns_only_own_notifications(app, client, people):
    alices = _add(app, people["alice"], "爱丽丝的私信")
    bobs = _add(app, people["bob"], "鲍勃的私信")
    headers = {"Authorization": f"Bearer {api_token(client, people['bob'])}"}
    listing = client.get("/api/v1/notification/", headers=headers)
    assert listing.status_code == 200
    assert [row["subject"] for row in listing.get_json()["result"]] == ["鲍勃的私信"]
    assert client.get(f"/api/v1/notification/{alices}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/notification/{bobs}", headers=headers).status_code == 200
    assert client.post(f"/api/v1/notification/{alices}/read", headers=headers).status_code == 404
    response = client.post(f"/api/v1/notification/{bobs}/read", headers=headers)
    assert response.status_code == 200 and response.get_json()["read_at"]
    # Read-only resource: no create, change or delete.
    assert client.post("/api/v1/notification/", json={"subject": "x"}, headers=headers).status_code in (404, 405)
    assert client.delete(f"/api/v1/notification/{bobs}", headers=headers).status_code in (404, 405)


def test_export_contains_only_own_notifications(app, client, login_as, people):
    _add(app, people["alice"], "爱丽丝的私信")
    _add(app, people["bob"], "鲍勃的私信")
    login_as(people["bob"])
    response = client.get("/notificationview/export.csv")
    assert response.status_code == 200
    body = response.get_data().decode("utf-8-sig")
    assert "鲍勃的私信" in body and "爱丽丝的私信" not in body


def test_inbox_has_no_add_edit_or_delete_door(app, client, login_as, people):
    mine = _add(app, people["alice"], "一")
    login_as(people["alice"])
    assert client.get("/notificationview/add").status_code == 404
    assert client.get(f"/notificationview/edit/{mine}").status_code == 404
    assert client.post(f"/notificationview/delete/{mine}").status_code == 404
    assert client.get(f"/notificationview/mark_read/{mine}").status_code == 405


def test_opening_a_notification_marks_it_read_and_the_badge_counts_down(app, client, login_as, people):
    first = _add(app, people["alice"], "第一条")
    _add(app, people["alice"], "第二条")
    _add(app, people["bob"], "别人的")
    login_as(people["alice"])
    home = client.get("/").get_data(as_text=True)
    assert 'id="inbox-link"' in home
    assert '<span class="badge badge-unread">2</span>' in home
    shown = client.get(f"/notificationview/show/{first}")
    assert shown.status_code == 200 and "第一条" in shown.get_data(as_text=True)
    assert '<span class="badge badge-unread">1</span>' in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Notification, first).read_at is not None


def test_mark_read_and_mark_all_read_buttons(app, client, login_as, people):
    first = _add(app, people["alice"], "第一条")
    _add(app, people["alice"], "第二条")
    login_as(people["alice"])
    page = client.get("/notificationview/list/").get_data(as_text=True)
    assert f'action="/notificationview/mark_read/{first}"' in page
    assert client.post(f"/notificationview/mark_read/{first}").status_code == 302
    assert f'action="/notificationview/mark_read/{first}"' not in client.get(
        "/notificationview/list/").get_data(as_text=True)
    assert client.post("/notificationview/mark_all_read/").status_code == 302
    assert 'class="badge badge-unread"' not in client.get("/").get_data(as_text=True)


def test_inbox_lists_newest_first_with_an_unread_first_option(app, client, login_as, people):
    _add(app, people["alice"], "最早未读")
    _add(app, people["alice"], "中间已读", read=True)
    _add(app, people["alice"], "最新已读", read=True)
    login_as(people["alice"])
    page = client.get("/notificationview/list/").get_data(as_text=True)
    assert page.index("最新已读") < page.index("中间已读") < page.index("最早未读")
    page = client.get("/notificationview/list/?_oc_NotificationView=unread_rank"
                      "&_od_NotificationView=desc").get_data(as_text=True)
    assert page.index("最早未读") < page.index("最新已读") < page.index("中间已读")


def test_deadline_notices_reach_the_inbox_of_the_assignee(app, client, login_as, people):
    import datetime

    from app.deadlines import scan
    from app.models.base import utcnow
    from app.models.deadlines import Deadline

    with app.app_context():
        db.session.add(Deadline(record_table="absence", record_id=5, state="requested",
                                kind="absence_approval", days=1, opened_at=utcnow(),
                                due_at=utcnow() + datetime.timedelta(hours=1),
                                assignee_id=people["alice"].id))
        db.session.commit()
        scan()
    login_as(people["alice"])
    page = client.get("/notificationview/list/").get_data(as_text=True)
    assert 'href="/absenceview/show/5"' in page
    assert '<span class="badge badge-unread">1</span>' in client.get("/").get_data(as_text=True)


def test_x_02_the_e_mail_receipt_is_an_audited_change(app, people, fake_smtp):
    from app.models.audit import AuditLog

    app.config["MAIL_SERVER"] = "smtp.example.com"
    notification_id = _add(app, people["alice"], "审计回执")
    with app.app_context():
        assert db.session.get(Notification, notification_id).emailed_at is not None
        stamps = db.session.query(AuditLog).filter_by(
            table_name="notification", row_id=str(notification_id), action="update").all()
        assert any("emailed_at" in entry.changes for entry in stamps)
