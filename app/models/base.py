"""Shared column sets and helpers for the business models."""
import datetime

from flask_appbuilder import Model  # noqa: F401  (re-exported for the domain modules)
from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declared_attr, relationship

# Integer on SQLite keeps ROWID autoincrement; BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow():
    """Naive UTC now: every timestamp is stored in UTC and shown in local time."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class ChoiceSet:
    """A closed set of values with translatable labels and a display colour.

    Subclasses set ``CHOICES = [(value, label, colour), ...]``; a column
    declares ``info={"choices": TheSet}`` so that views, exports and the API
    show labels instead of raw values.
    """

    CHOICES = []

    @classmethod
    def values(cls):
        return [value for value, _label, _colour in cls.CHOICES]

    @classmethod
    def choices(cls):
        return [(value, label) for value, label, _colour in cls.CHOICES]

    @classmethod
    def label(cls, value):
        for choice_value, label, _colour in cls.CHOICES:
            if choice_value == value:
                return label
        return value

    @classmethod
    def colour(cls, value):
        for choice_value, _label, colour in cls.CHOICES:
            if choice_value == value:
                return colour
        return "default"


class RecordMixin:
    """Who created and last changed a row, and when; filled in by the audit listener."""

    created_at = Column(DateTime, default=utcnow, nullable=False)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    @declared_attr
    def created_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True, index=True)

    @declared_attr
    def updated_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=True)

    @declared_attr
    def created_by(cls):
        return relationship("User", foreign_keys=[cls.created_by_id], lazy="select")

    @declared_attr
    def updated_by(cls):
        return relationship("User", foreign_keys=[cls.updated_by_id], lazy="select")


class VersionedMixin:
    """Optimistic locking: every UPDATE checks and bumps ``version``.

    A writer holding an older version gets ``StaleDataError``; services turn it
    into a refusal that says the record changed.
    """

    version = Column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}
