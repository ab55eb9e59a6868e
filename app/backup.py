"""Backup and restore of the database and the attachment files.

``flask backup [PATH]`` writes one ``.tar.gz`` archive holding

* ``manifest.json``: engine, time, row count of every table and the audit
  chain's length and last hash, all read from the same snapshot as the copy;
* ``database.sqlite3`` (SQLite: the online backup API, a consistent copy
  taken while the app goes on writing) or ``database.pgdump``
  (PostgreSQL: ``pg_dump -Fc`` of the configured database, run on the very
  snapshot the counts were read from);
* ``attachments/``: the stored files (named by their SHA-256, never
  changed), unless ``--no-attachments``.

``flask restore PATH`` puts the database back into the configured database,
which must hold no user accounts (a fresh ``flask db upgrade``) unless
``--force`` is given, adds the attachment files that are missing, then
recomputes the whole audit chain and compares counts and the chain's last
hash with the manifest; it exits with status 1 when anything differs. Stop
the app while restoring. An archive restores only into the same engine.
"""
import datetime
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
ATTACHMENTS_DIR = "attachments"
# The stored-file layout of app/services/attachments.py: "ab/<62 hex>".
STORAGE_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{62}$")


class BackupError(click.ClickException):
    """A backup or restore that cannot go on; the message says why."""


# ---------------------------------------------------------------------------
# What a database holds
# ---------------------------------------------------------------------------

def table_counts(connection):
    """Rows per table of the application's schema present in the database."""
    from flask_appbuilder import Model

    present = set(inspect(connection).get_table_names())
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar()
        for table in Model.metadata.sorted_tables if table.name in present
    }


def audit_head(connection):
    """Length of the audit chain and its last hash (the genesis hash when empty)."""
    from .audit.chain import GENESIS_HASH
    from .models.audit import AuditLog

    table = AuditLog.__table__
    count = connection.execute(select(func.count()).select_from(table)).scalar()
    last = connection.execute(
        select(table.c.entry_hash).order_by(table.c.id.desc()).limit(1)).scalar()
    return {"count": count, "last_hash": last or GENESIS_HASH}


def _engine_name(url):
    return make_url(url).get_backend_name()


def _database_url():
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


# ---------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------

def default_backup_path(instance_path):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return os.path.join(instance_path, "backups", f"backup-{stamp}.tar.gz")


def create_backup(path, include_attachments=True):
    """Write the archive to ``path`` (atomically) and return its manifest."""
    url = _database_url()
    engine_name = _engine_name(url)
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cs-backup-") as work:
        if engine_name == "sqlite":
            member, dump = SQLITE_MEMBER, os.path.join(work, SQLITE_MEMBER)
            _sqlite_copy(_sqlite_path(url), dump)
            counts, head = _read_sqlite_file(dump)
        elif engine_name == "postgresql":
            member, dump = PG_MEMBER, os.path.join(work, PG_MEMBER)
            counts, head = _pg_dump(url, dump)
        else:
            raise BackupError(f"no backup method for the {engine_name} engine")
        files = _attachment_files() if include_attachments else []
        manifest = {
            "format": FORMAT_VERSION,
            "engine": engine_name,
            "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "database": member,
            "counts": counts,
            "audit": head,
            "attachments": len(files),
        }
        partial = path + ".part"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            # Level 1: the database compresses well even so; attachments (PDF, JPEG) hardly at all.
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz",
                                                          compresslevel=1) as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))
                archive.add(dump, arcname=member)
                for key, source in files:
                    archive.add(source, arcname=f"{ATTACHMENTS_DIR}/{key}")
            os.replace(partial, path)
        except BaseException:
            if os.path.exists(partial):
                os.remove(partial)
            raise
    return manifest


def _add_bytes(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.datetime.now().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _sqlite_path(url):
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return os.path.abspath(database)


def _sqlite_copy(source_path, target_path):
    """A consistent copy through SQLite's online backup API.

    Copied in one step: the read snapshot is held for the whole copy, so
    writers (in WAL mode) carry on and their later commits are not in it.
    """
    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 10000) / 1000
    source = sqlite3.connect(source_path, timeout=timeout)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _read_sqlite_file(path):
    engine = create_engine("sqlite:///" + path, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return table_counts(connection), audit_head(connection)
    finally:
        engine.dispose()


def _pg_connection_args(url):
    """A libpq URI without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    return uri, env


def _run(command, env):
    try:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from None
    if completed.returncode != 0:
        raise BackupError(f"{command[0]} failed: {completed.stderr.strip()}")
    return completed


def _pg_dump(url, path):
    """``pg_dump -Fc`` on the snapshot the counts are read from."""
    from .extensions import db

    uri, env = _pg_connection_args(url)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
            counts, head = table_counts(connection), audit_head(connection)
            # The transaction must stay open while pg_dump imports its snapshot.
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                  f"--file={path}", f"--dbname={uri}"], env)
    return counts, head


def _attachment_files():
    folder = current_app.config.get("ATTACHMENT_FOLDER")
    files = []
    if not folder or not os.path.isdir(folder):
        return files
    for prefix in sorted(os.listdir(folder)):
        directory = os.path.join(folder, prefix)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            key = f"{prefix}/{name}"
            if STORAGE_KEY.match(key):  # not the temporary files of uploads under way
                files.append((key, os.path.join(directory, name)))
    return files


# ---------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------

def read_manifest(archive):
    try:
        manifest = json.load(archive.extractfile(MANIFEST))
    except (KeyError, ValueError, TypeError):
        raise BackupError("not a backup archive of this application (no manifest)") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def database_has_accounts(connection):
    if not inspect(connection).has_table("ab_user"):
        return False
    return bool(connection.execute(text("SELECT COUNT(*) FROM ab_user")).scalar())


def restore_backup(path, force=False, include_attachments=True):
    """Restore the archive at ``path``; return (manifest, counts, verify result, files added)."""
    from .audit.chain import verify_chain
    from .extensions import db

    url = _database_url()
    engine_name = _engine_name(url)
    if not os.path.isfile(path):
        raise BackupError(f"no such file: {path}")
    with tarfile.open(path, "r:*") as archive:
        manifest = read_manifest(archive)
        if manifest["engine"] != engine_name:
            raise BackupError(f"the archive holds a {manifest['engine']} database; "
                              f"the configured database is {engine_name}")
        with db.engine.connect() as connection:
            occupied = database_has_accounts(connection)
        if occupied and not force:
            raise BackupError("the configured database already holds user accounts; "
                              "restore into a fresh database or pass --force to replace it")
        db.session.remove()
        db.engine.dispose()
        with tempfile.TemporaryDirectory(prefix="cs-restore-") as work:
            member = manifest["database"]
            if member not in (SQLITE_MEMBER, PG_MEMBER):
                raise BackupError(f"unexpected database member {member!r}")
            archive.extract(member, work, filter="data")
            dump = os.path.join(work, member)
            if engine_name == "sqlite":
                _sqlite_restore(dump, _sqlite_path(url))
            else:
                uri, env = _pg_connection_args(url)
                _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                      "--single-transaction", "--exit-on-error", f"--dbname={uri}", dump], env)
        added = _restore_attachments(archive) if include_attachments else 0
    db.engine.dispose()
    with db.engine.connect() as connection:
        counts = table_counts(connection)
        result = verify_chain(connection)
    return manifest, counts, result, added


def _sqlite_restore(source_path, target_path):
    os.makedirs(os.path.dirname(target_path), exist_ok=True)
    timeout = current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 10000) / 1000
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path, timeout=timeout)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_attachments(archive):
    """Add the archive's stored files that the attachment folder lacks; return how many."""
    folder = current_app.config["ATTACHMENT_FOLDER"]
    prefix = ATTACHMENTS_DIR + "/"
    added = 0
    for info in archive:
        if not info.name.startswith(prefix) or not info.isfile():
            continue
        key = info.name[len(prefix):]
        if not STORAGE_KEY.match(key):
            continue  # never a path outside the folder
        target = os.path.join(folder, *key.split("/"))
        if os.path.exists(target):
            continue  # same name, same content: files are named by their hash
        os.makedirs(os.path.dirname(target), exist_ok=True)
        partial = target + ".restoring"
        with archive.extractfile(info) as source, open(partial, "wb") as out:
            shutil.copyfileobj(source, out)
        os.replace(partial, target)
        added += 1
    return added


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

def _echo_counts(counts):
    for name, count in sorted(counts.items()):
        if count:
            click.echo(f"  {name:<32} {count:>10}")
    click.echo(f"  {'(rows in all tables)':<32} {sum(counts.values()):>10}")


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--attachments/--no-attachments", default=True, show_default=True,
              help="Also archive the attachment files.")
@with_appcontext
def backup_command(path, attachments):
    """Write a consistent backup of the database (and attachments) to PATH.

    PATH defaults to instance/backups/backup-<UTC time>.tar.gz.
    """
    path = path or default_backup_path(current_app.instance_path)
    manifest = create_backup(path, include_attachments=attachments)
    click.echo(f"Backup written: {os.path.abspath(path)} ({os.path.getsize(path)} bytes, "
               f"{manifest['engine']})")
    click.echo("Rows:")
    _echo_counts(manifest["counts"])
    click.echo(f"Attachment files: {manifest['attachments']}")
    click.echo(f"Audit trail: {manifest['audit']['count']} entries, "
               f"last hash {manifest['audit']['last_hash']}")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds accounts.")
@click.option("--attachments/--no-attachments", default=True, show_default=True,
              help="Also restore the attachment files that are missing.")
@with_appcontext
def restore_command(path, force, attachments):
    """Restore the backup at PATH into the configured database, then verify it."""
    manifest, counts, result, added = restore_backup(path, force=force,
                                                     include_attachments=attachments)
    click.echo(f"Restored {path} (taken {manifest['created_at']}).")
    click.echo("Rows:")
    _echo_counts(counts)
    click.echo(f"Attachment files added: {added}")
    problems = []
    expected = manifest["counts"]
    differing = sorted(name for name in expected if counts.get(name) != expected[name])
    if differing:
        problems.append("row counts differ from the backup in: " + ", ".join(differing))
    if not result.ok:
        problems.append(f"audit chain broken: {result.message}")
    elif result.last_hash != manifest["audit"]["last_hash"] or (
            result.count != manifest["audit"]["count"]):
        problems.append(f"audit chain intact but it ends at {result.count} entries, "
                        f"{result.last_hash}; the backup ended at "
                        f"{manifest['audit']['count']}, {manifest['audit']['last_hash']}")
    if problems:
        for problem in problems:
            click.echo("ERROR: " + problem, err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"Audit trail verified: {result.count} entries, last hash {result.last_hash} "
               "(as in the backup).")


COMMANDS = [backup_command, restore_command]
