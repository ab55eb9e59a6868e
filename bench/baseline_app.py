"""The baseline: a plain Flask-AppBuilder 5.3 ModelView over the same ``complaint`` table.

Nothing of the application is imported: FAB's own security manager on the
same ``ab_*`` tables (the harness logs in with the same administrator), its
own connection to the same database, FAB's stock templates and list widget.
Only the harness starts it:

    DATABASE_URL=... SECRET_KEY=... gunicorn -w 2 bench.baseline_app:app

``BASELINE_UPDATE_PERMS=1`` registers the view's permissions (run once,
before the workers start, so that two workers never race to insert them).
"""
import os

from flask import Flask
from flask_appbuilder import AppBuilder, Model, ModelView
from flask_appbuilder.const import AUTH_DB
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.legacy import get_sqla_class
from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

db = get_sqla_class()()


class Department(Model):
    __tablename__ = "department"

    id = Column(Integer, primary_key=True)
    code = Column(String(32))
    name = Column(String(100))

    def __str__(self):
        return self.name


class Complaint(Model):
    __tablename__ = "complaint"

    id = Column(Integer, primary_key=True)
    number = Column(String(32))
    kind = Column(String(16))
    channel = Column(String(24))
    received_at = Column(DateTime)
    complainant_name = Column(String(100))
    respondent_department_id = Column(Integer, ForeignKey("department.id"))
    respondent_department = relationship(Department)
    subject = Column(String(200))
    description = Column(Text)
    severity = Column(String(16))
    principle_issue = Column(Boolean)
    promised_reply_date = Column(Date)
    status = Column(String(20))

    def __str__(self):
        return self.number


class PlainComplaintView(ModelView):
    """What a FAB tutorial gives: the same columns, order and filters as the app's list."""

    datamodel = SQLAInterface(Complaint)
    list_columns = ["number", "kind", "channel", "severity", "subject", "respondent_department",
                    "received_at", "promised_reply_date", "status"]
    search_columns = ["number", "kind", "channel", "severity", "status", "respondent_department",
                      "received_at", "promised_reply_date", "subject", "complainant_name"]
    base_order = ("received_at", "desc")


def create_app():
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        SECRET_KEY=os.environ.get("SECRET_KEY", "baseline-only-on-loopback"),
        AUTH_TYPE=AUTH_DB,
        AUTH_ROLE_ADMIN="Admin",
        AUTH_ROLE_PUBLIC="Public",
        APP_NAME="Plain FAB baseline",
        FAB_UPDATE_PERMS=os.environ.get("BASELINE_UPDATE_PERMS") == "1",
        FAB_CREATE_DB=False,
        SESSION_COOKIE_SECURE=False,
        WTF_CSRF_ENABLED=True,
    )
    db.init_app(app)
    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        appbuilder.add_view(PlainComplaintView, "Plain complaints", category="Baseline")
    return app


app = create_app()
