"""Translation catalogues: compiled from translations/*.po when stale.

The compiled ``.mo`` files are build output and stay out of the repository;
every process that starts the app compiles what is missing or older than its
``.po`` source, so a fresh clone needs no extra step.
"""
import os
import tempfile

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def compile_catalogues(directories):
    """Compile each stale ``messages.po`` under the ';'-separated ``directories``."""
    for directory in directories.split(";"):
        if not os.path.isdir(directory):
            continue
        for locale in os.listdir(directory):
            po_path = os.path.join(directory, locale, "LC_MESSAGES", "messages.po")
            mo_path = po_path[:-3] + ".mo"
            if not os.path.exists(po_path):
                continue
            if os.path.exists(mo_path) and os.path.getmtime(mo_path) >= os.path.getmtime(po_path):
                continue
            with open(po_path, "rb") as po_file:
                catalogue = read_po(po_file, locale=locale)
            # Write then rename, so a worker never reads a half-written file.
            fd, tmp_path = tempfile.mkstemp(dir=os.path.dirname(mo_path))
            with os.fdopen(fd, "wb") as mo_file:
                write_mo(mo_file, catalogue)
            os.replace(tmp_path, mo_path)
