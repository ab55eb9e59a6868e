"""Gap-free yearly numbering shared by every register (complaints, projects, archives)."""
from sqlalchemy import Column, Integer, String

from .base import Model, RecordMixin


class NumberSequence(RecordMixin, Model):
    """The last number a register gave out in a year; locked while a number is taken."""

    __tablename__ = "number_sequence"

    series = Column(String(20), primary_key=True)
    year = Column(Integer, primary_key=True, autoincrement=False)
    last_number = Column(Integer, nullable=False, default=0)
