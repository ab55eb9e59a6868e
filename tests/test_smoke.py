from tests.conftest import logged_in, login


def test_login_page_and_home(client, make_user):
    user = make_user("FrontDesk")
    assert client.get("/login/").status_code == 200
    response = login(client, user)
    assert logged_in(response)
    home = client.get("/")
    assert home.status_code == 200


def test_home_shows_what_waits_for_me(app, client, make_user):
    import datetime

    from app.deadlines import open_deadline
    from app.extensions import db
    from app.models.base import utcnow
    from app.services.notifications import notify

    user = make_user("ServiceSupervisor")
    with app.app_context():
        past = utcnow() - datetime.timedelta(days=10)
        open_deadline("absence", 1, "requested", "absence_approval", past, 1, assignee=user.id,
                      label="审批请假")
        notify(user.get(), "请审批王芳的请假申请", "正文")
        db.session.commit()
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert "审批请假" in page
    assert "label-danger" in page  # overdue
    assert "请审批王芳的请假申请" in page
    assert 'class="badge badge-unread">1<' in page.replace(" ", " ")
