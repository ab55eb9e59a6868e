"""Attachments of any business record, with every version kept (CMP-04).

One table serves every module: a row names its owner by table name and id,
so a complaint, a visit, a project or a customer archive attaches files the
same way. Files live on disk (``ATTACHMENT_FOLDER``), addressed by their
SHA-256; the row holds the name the user knows and where the bytes are.
"""
from sqlalchemy import (
    BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text,
)

from .base import Model, RecordMixin


class Attachment(RecordMixin, Model):
    """One version of one attached file, or a paper original recorded without a file.

    Rows of the same ``series_id`` are the versions of one file slot: replacing
    a file adds version n+1 and marks version n not current, linking both ways
    (``replaces_id`` / ``replaced_by_id``). No row and no stored file is ever
    deleted. ``paper_location`` says where a paper original (留存原件) is
    kept; a paper original may have no file at all (``storage_key`` empty).
    """

    __tablename__ = "attachment"
    __table_args__ = (
        UniqueConstraint("series_id", "version", name="uq_attachment_series_version"),
        Index("ix_attachment_owner", "owner_table", "owner_id", "is_current"),
        Index("ix_attachment_sha256", "sha256"),
        Index("ix_attachment_replaces_id", "replaces_id"),
        Index("ix_attachment_replaced_by_id", "replaced_by_id"),
    )

    id = Column(Integer, primary_key=True)
    owner_table = Column(String(64), nullable=False)
    owner_id = Column(BigInteger, nullable=False)
    # A slot name defined by the owning module ("original", "reply_letter", "licence").
    kind = Column(String(40), nullable=False)
    series_id = Column(String(32), nullable=False)
    version = Column(Integer, nullable=False, default=1)
    is_current = Column(Boolean, nullable=False, default=True)
    replaces_id = Column(Integer, ForeignKey("attachment.id"), nullable=True)
    replaced_by_id = Column(Integer, ForeignKey("attachment.id"), nullable=True)

    original_filename = Column(String(255), nullable=True)
    content_type = Column(String(127), nullable=True)
    size_bytes = Column(BigInteger, nullable=True)
    sha256 = Column(String(64), nullable=True)
    # Relative to ATTACHMENT_FOLDER, e.g. "ab/cdef…"; empty for a paper-only record.
    storage_key = Column(String(80), nullable=True)

    note = Column(Text, nullable=True)
    paper_location = Column(String(255), nullable=True)

    @property
    def has_file(self):
        return bool(self.storage_key)

    def __str__(self):
        return self.original_filename or self.paper_location or f"{self.kind} #{self.id}"


# At most one current version per series, even when two people replace at once.
Index(
    "uq_attachment_current_series", Attachment.series_id, unique=True,
    postgresql_where=text("is_current"), sqlite_where=text("is_current"),
)
