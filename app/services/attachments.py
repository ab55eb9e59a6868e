"""Attachments for every module: store, replace (keeping old versions), download.

CMP-04: originals are retained. A file is stored once under its SHA-256 in
``ATTACHMENT_FOLDER`` and never removed; replacing an attachment adds a new
version and keeps the old one retrievable; a paper original is recorded with
the place where it is kept.

The same functions serve the web form, the REST API and the CLI. Each checks
that the actor may see the owning record (``ensure_visible``), because the
attachment endpoints are generic and no list filter protects them.
"""
import hashlib
import logging
import mimetypes
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from typing import NamedTuple

from flask import current_app
from flask_appbuilder import Model
from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models.attachments import Attachment
from ..models.base import RecordMixin
from ..security.visibility import ensure_visible
from .errors import DomainError, InvalidInput, RecordNotVisible, StaleVersion
from .transaction import transactional

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
# Enough of the file's head to recognise every signature below.
SNIFF_BYTES = 4096
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STORAGE_KEY_PATTERN = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{62}$")


class StoredFileMissing(DomainError):
    """The row exists but its file is not in storage (storage not mounted, or lost)."""

    status = 503

    def __init__(self):
        super().__init__(_("The stored file cannot be found. Please tell the administrator."))


# ---------------------------------------------------------------------------
# Per-model declarations made by the domain modules
# ---------------------------------------------------------------------------

_KINDS = {}
_GUARDS = {}


def register_attachment_kinds(model, choices):
    """Declare the attachment slots of ``model``: ``[(kind, label), ...]``.

    When a model declares its slots, only those are accepted and the upload
    form offers them as a list; otherwise any well-formed slot name is.
    """
    _KINDS[model] = list(choices)


def attachment_kinds(model):
    return list(_KINDS.get(model, []))


def register_attachment_guard(model, guard):
    """Let ``model`` refuse attachment changes: ``guard(owner, actor)`` raises a DomainError.

    For instance an archived complaint is read-only (CMP-13): its guard
    refuses new files, replacements and paper records.
    """
    _GUARDS[model] = guard


# ---------------------------------------------------------------------------
# Owners
# ---------------------------------------------------------------------------

def model_for_table(table_name):
    """The mapped class whose ``__tablename__`` is ``table_name`` and may own attachments.

    Only business records (RecordMixin models) own attachments, so the generic
    endpoints cannot hang files on users, roles or the audit trail.
    """
    for mapper in Model.registry.mappers:
        cls = mapper.class_
        if (getattr(cls, "__tablename__", None) == table_name
                and issubclass(cls, RecordMixin) and cls is not Attachment):
            return cls
    return None


def _owner_key(owner):
    """``(table name, id)`` of a persisted owner record."""
    model = type(owner)
    if model_for_table(getattr(model, "__tablename__", None)) is not model:
        raise ValueError(f"{model.__name__} cannot own attachments")
    identity = inspect(owner).identity
    if not identity or len(identity) != 1:
        raise ValueError("the owner must be saved and have a single-column key")
    return model.__tablename__, identity[0]


def load_owner(owner_table, owner_id):
    """The owner record, or RecordNotVisible when the table or row does not exist."""
    model = model_for_table(owner_table)
    record = db.session.get(model, owner_id) if model is not None else None
    if record is None:
        raise RecordNotVisible()
    return record


def may_change_attachments(owner, actor):
    """Whether ``actor`` may add or replace files of ``owner`` now (for showing the forms)."""
    from .errors import DomainError

    try:
        _check_may_change(owner, actor)
    except DomainError:
        return False
    return True


def _check_may_change(owner, actor):
    ensure_visible(actor, owner)
    guard = _GUARDS.get(type(owner))
    if guard is not None:
        guard(owner, actor)


def _clean_kind(model, kind):
    kind = (kind or "").strip()
    declared = [value for value, _label in attachment_kinds(model)]
    if declared and kind not in declared:
        raise InvalidInput(_("Please choose the kind of attachment."),
                           errors={"kind": _("Please choose the kind of attachment.")})
    if not KIND_PATTERN.match(kind):
        message = _("The kind must be a short name of lower-case letters, digits and “_”.")
        raise InvalidInput(message, errors={"kind": message})
    return kind


def _clean_text(value, limit=None):
    value = (value or "").strip()
    return value[:limit] if limit else value


# ---------------------------------------------------------------------------
# File checks
# ---------------------------------------------------------------------------

def _file_error(message):
    return InvalidInput(message, errors={"file": message})


def clean_filename(raw):
    """The name the user gave, without any path or control characters, at most 255 long."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 254 - len(extension)] + dot + extension) if dot else name[:255]
    return name


def _extension(filename):
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot else ""


def format_megabytes(size):
    """A byte count in MB for messages: 20, 0.5, 1.25."""
    return f"{round(size / (1024 * 1024), 2):g}"


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "txt": "text/plain",
    "csv": "text/csv",
}

# What the content of a file with each extension must look like.
EXPECTED_CONTENT = {
    "pdf": "pdf", "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif",
    "doc": "ole", "xls": "ole", "ppt": "ole",
    "docx": "zip", "xlsx": "zip", "pptx": "zip",
    "txt": "text", "csv": "text",
}
# The folder an Office Open XML package of each type must contain.
OOXML_FOLDERS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}

EXECUTABLE_SIGNATURES = (
    b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe",
)


def sniff(head):
    """The type the first bytes of a file reveal, or None when they reveal none."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    # Readers accept the PDF header anywhere in the first 1024 bytes.
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(EXECUTABLE_SIGNATURES):
        return "executable"
    return None


def _looks_like_text(head, detected):
    if detected is not None:
        return False
    # UTF-16 text (Excel's "Unicode text") legitimately contains NUL bytes.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return b"\x00" not in head


def _content_matches(extension, head, path):
    detected = sniff(head)
    expected = EXPECTED_CONTENT.get(extension)
    if expected is None:
        # An extension the admin allowed that we know no signature for.
        return detected != "executable"
    if expected == "text":
        return _looks_like_text(head, detected)
    if detected != expected:
        return False
    if expected == "zip":
        try:
            with zipfile.ZipFile(path) as package:
                folder = OOXML_FOLDERS[extension]
                return any(name.startswith(folder) for name in package.namelist())
        except zipfile.BadZipFile:
            return False
    return True


# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------

class StoredFile(NamedTuple):
    storage_key: str
    sha256: str
    size_bytes: int
    content_type: str
    original_filename: str


def attachment_folder():
    return current_app.config["ATTACHMENT_FOLDER"]


def storage_path(storage_key):
    """Absolute path of a stored file; refuses anything but a well-formed key."""
    if not STORAGE_KEY_PATTERN.match(storage_key or ""):
        raise ValueError(f"malformed storage key {storage_key!r}")
    return os.path.join(attachment_folder(), *storage_key.split("/"))


def store_upload(file_storage):
    """Check an uploaded file and store it under its SHA-256; return what to record.

    The upload is streamed in chunks into a temporary file in the attachment
    folder while it is hashed and measured, then moved into place with
    ``os.replace`` so that a reader (or another machine sharing the folder)
    never sees half a file. Raises InvalidInput (field ``file``) when the
    file is missing, empty, too large, of a refused type or disguised.
    """
    config = current_app.config
    filename = clean_filename(getattr(file_storage, "filename", None))
    if file_storage is None or not filename:
        raise _file_error(_("Please choose a file to upload."))
    extension = _extension(filename)
    allowed = [item.lower().lstrip(".") for item in config["ATTACHMENT_ALLOWED_EXTENSIONS"]]
    if extension not in allowed:
        raise _file_error(_(
            "Files of type “%(extension)s” are not accepted. Accepted types: %(allowed)s.",
            extension=extension or _("(none)"), allowed=", ".join(allowed),
        ))
    max_bytes = int(config["ATTACHMENT_MAX_BYTES"])

    folder = attachment_folder()
    os.makedirs(folder, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with os.fdopen(handle, "wb") as out:
            while True:
                chunk = file_storage.stream.read(CHUNK_SIZE)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise _file_error(_(
                        "The file “%(filename)s” is larger than the limit of %(limit)s MB.",
                        filename=filename, limit=format_megabytes(max_bytes),
                    ))
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise _file_error(_("The file “%(filename)s” is empty.", filename=filename))
        if not _content_matches(extension, head, temp_path):
            raise _file_error(_(
                "The content of “%(filename)s” is not a “%(extension)s” file; it was refused.",
                filename=filename, extension=extension,
            ))
        sha256 = digest.hexdigest()
        storage_key = f"{sha256[:2]}/{sha256[2:]}"
        target = storage_path(storage_key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # The same content may already be stored (by another record or machine);
        # a stored file of the wrong size is damaged and gets rewritten.
        if not os.path.exists(target) or os.path.getsize(target) != size:
            os.chmod(temp_path, 0o640)
            os.replace(temp_path, target)
    finally:
        if os.path.exists(temp_path):
            # Refused, failed, or the same content is already stored.
            os.unlink(temp_path)
    content_type = (CONTENT_TYPES.get(extension) or mimetypes.guess_type(filename)[0]
                    or "application/octet-stream")
    return StoredFile(storage_key, sha256, size, content_type, filename)


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------

def _actor_id(actor):
    return getattr(actor, "id", None)


def _flush_new_version(attachment):
    """Flush a new row; a concurrent writer of the same version becomes StaleVersion."""
    db.session.add(attachment)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise StaleVersion(_(
            "Someone else replaced this attachment at the same time. Reload the page and try again."
        )) from error


@transactional
def add_attachment(owner, file_storage, kind, actor, note=None, paper_location=None):
    """Attach a new file to ``owner`` as version 1 of a new series (CMP-04).

    ``paper_location`` records where the paper original of a scan is kept.
    Raises RecordNotVisible when ``actor`` may not see the owner, InvalidInput
    for a bad kind or file.
    """
    owner_table, owner_id = _owner_key(owner)
    _check_may_change(owner, actor)
    kind = _clean_kind(type(owner), kind)
    stored = store_upload(file_storage)
    attachment = Attachment(
        owner_table=owner_table, owner_id=owner_id, kind=kind,
        series_id=uuid.uuid4().hex, version=1, is_current=True,
        original_filename=stored.original_filename, content_type=stored.content_type,
        size_bytes=stored.size_bytes, sha256=stored.sha256, storage_key=stored.storage_key,
        note=_clean_text(note) or None,
        paper_location=_clean_text(paper_location, 255) or None,
        created_by_id=_actor_id(actor), updated_by_id=_actor_id(actor),
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


@transactional
def record_paper_original(owner, kind, location, actor, note=None):
    """Record that the paper original of ``kind`` is kept at ``location`` (CMP-04, 留存原件)."""
    owner_table, owner_id = _owner_key(owner)
    _check_may_change(owner, actor)
    kind = _clean_kind(type(owner), kind)
    location = _clean_text(location, 255)
    if not location:
        message = _("Please say where the paper original is kept.")
        raise InvalidInput(message, errors={"paper_location": message})
    attachment = Attachment(
        owner_table=owner_table, owner_id=owner_id, kind=kind,
        series_id=uuid.uuid4().hex, version=1, is_current=True,
        paper_location=location, note=_clean_text(note) or None,
        created_by_id=_actor_id(actor), updated_by_id=_actor_id(actor),
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


@transactional
def replace_attachment(attachment_id, file_storage, actor, note=None):
    """Store a new version of an attachment; the old one stays, no longer current (CMP-04).

    The new version keeps the slot (kind) and the paper location, which a new
    scan does not move. Raises RecordNotVisible, InvalidInput, or StaleVersion
    when the attachment was replaced meanwhile.
    """
    # Lock the row (PostgreSQL) so that two replacements of it queue up.
    old = db.session.execute(
        select(Attachment).where(Attachment.id == attachment_id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if old is None:
        raise RecordNotVisible()
    owner = load_owner(old.owner_table, old.owner_id)
    _check_may_change(owner, actor)
    if not old.is_current:
        raise StaleVersion(_(
            "This attachment has already been replaced by a newer version. "
            "Reload the page and replace the current version."
        ))
    stored = store_upload(file_storage)
    old.is_current = False
    old.updated_by_id = _actor_id(actor)
    # The old row must stop being current before the new one is inserted
    # (one current version per series is a unique index).
    db.session.flush()
    new = Attachment(
        owner_table=old.owner_table, owner_id=old.owner_id, kind=old.kind,
        series_id=old.series_id, version=old.version + 1, is_current=True,
        replaces_id=old.id,
        original_filename=stored.original_filename, content_type=stored.content_type,
        size_bytes=stored.size_bytes, sha256=stored.sha256, storage_key=stored.storage_key,
        note=_clean_text(note) or old.note, paper_location=old.paper_location,
        created_by_id=_actor_id(actor), updated_by_id=_actor_id(actor),
    )
    _flush_new_version(new)
    old.replaced_by_id = new.id
    db.session.flush()
    return new


def current_attachments(owner):
    """The current version of each attachment of ``owner``, by kind then age."""
    owner_table, owner_id = _owner_key(owner)
    return db.session.scalars(
        select(Attachment)
        .where(Attachment.owner_table == owner_table, Attachment.owner_id == owner_id,
               Attachment.is_current.is_(True))
        .order_by(Attachment.kind, Attachment.created_at, Attachment.id)
    ).all()


def attachment_versions(attachment):
    """Every version of ``attachment``'s series, newest first."""
    return db.session.scalars(
        select(Attachment).where(Attachment.series_id == attachment.series_id)
        .order_by(Attachment.version.desc())
    ).all()


def attachment_history(owner):
    """``[(current, [older versions, newest first]), ...]`` in one query, for the record page."""
    owner_table, owner_id = _owner_key(owner)
    rows = db.session.scalars(
        select(Attachment)
        .where(Attachment.owner_table == owner_table, Attachment.owner_id == owner_id)
        .options(selectinload(Attachment.created_by))
        .order_by(Attachment.series_id, Attachment.version.desc())
    ).all()
    series = {}
    for row in rows:
        series.setdefault(row.series_id, []).append(row)
    groups = [(versions[0], versions[1:]) for versions in series.values()]
    groups.sort(key=lambda group: (group[0].kind, group[0].created_at, group[0].id))
    return groups


def open_for_download(attachment_id, actor):
    """``(path, filename, content_type)`` of any version the actor may see.

    Raises RecordNotVisible (also for a paper-only record, which has no file)
    without saying whether the attachment exists, and StoredFileMissing when
    the storage lost the file.
    """
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise RecordNotVisible()
    ensure_visible(actor, load_owner(attachment.owner_table, attachment.owner_id))
    if not attachment.has_file:
        raise RecordNotVisible()
    path = storage_path(attachment.storage_key)
    if not os.path.isfile(path):
        log.error("attachment %s: stored file %s is missing", attachment.id, path)
        raise StoredFileMissing()
    return path, attachment.original_filename, attachment.content_type
