"""Configurable figures an administrator may change without a code change."""
from sqlalchemy import Column, Integer, String, Text

from .base import Model, RecordMixin, VersionedMixin


class Setting(RecordMixin, VersionedMixin, Model):
    """One overridden setting: ``key`` names a registered setting, ``value`` holds it as JSON.

    Settings without a row take their default from ``config.py`` (and so from
    the environment) or from the module that registered them. Every change is
    a row change and therefore in the audit trail.
    """

    __tablename__ = "app_setting"

    id = Column(Integer, primary_key=True)
    key = Column(String(100), nullable=False, unique=True)
    value = Column(Text, nullable=False)
    note = Column(String(500))

    def __str__(self):
        return self.key
