"""Outgoing e-mail through plain SMTP (``MAIL_*`` settings in config.py).

Mail is a courtesy copy of the in-app inbox: a failure is logged and
reported to the caller, never raised, so no request or command fails
because the mail server is down.
"""
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str


def mail_configured(config=None):
    """True when ``MAIL_SERVER`` is set: only then is anything e-mailed."""
    config = config if config is not None else current_app.config
    return bool(config.get("MAIL_SERVER"))


def _message(mail, sender):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body or "", charset="utf-8")
    return message


def send_mails(mails, config=None):
    """Send ``mails`` over one SMTP connection; returns the ones that were accepted.

    Never raises: connection, login and per-message failures are logged.
    """
    config = config if config is not None else current_app.config
    mails = list(mails)
    if not mails or not mail_configured(config):
        return []
    sender = config.get("MAIL_DEFAULT_SENDER") or "noreply@localhost"
    smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    sent = []
    try:
        smtp = smtp_class(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25),
                          timeout=float(config.get("MAIL_TIMEOUT") or 10))
    except Exception:  # noqa: BLE001  (any failure to connect only skips the mail)
        log.exception("Cannot connect to the mail server %s", config.get("MAIL_SERVER"))
        return []
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        for mail in mails:
            try:
                smtp.send_message(_message(mail, sender))
            except Exception:  # noqa: BLE001
                log.exception("Mail to %s was not sent", mail.to)
            else:
                sent.append(mail)
    except Exception:  # noqa: BLE001
        log.exception("Mail session with %s failed", config.get("MAIL_SERVER"))
    finally:
        try:
            smtp.quit()
        except Exception:  # noqa: BLE001  (already closed or broken: nothing to do)
            pass
    return sent
