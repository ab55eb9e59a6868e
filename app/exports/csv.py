"""CSV that Excel opens correctly with Chinese text (X-04).

UTF-8 with a byte-order mark (without it Excel reads the file in the
system's ANSI code page and garbles Chinese), CRLF line ends and minimal
quoting: the ``excel`` dialect of the csv module.
"""
import csv
import datetime
import io

from ..timeutil import format_local

BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"


def csv_cell(value):
    """A typed export value as CSV text; numbers keep their own form (``-5``)."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return format_local(value)
    return value


def csv_chunks(header, rows, flush_every):
    """Encode ``header`` and ``rows`` as CSV, yielding bytes every ``flush_every`` rows.

    ``rows`` is consumed lazily, so only one chunk is ever held in memory.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")

    def take():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    buffer.write(BOM)
    writer.writerow(header)
    yield take()
    pending = 0
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
        pending += 1
        if pending >= flush_every:
            pending = 0
            yield take()
    if pending:
        yield take()


def csv_batches(header, batches):
    """Encode ``header``, then each batch of ready-made rows as one chunk of bytes.

    The rows' cells are already export text (see ``fast_rows``), so the
    csv module writes a whole batch in one call.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")

    def take():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    buffer.write(BOM)
    writer.writerow(header)
    yield take()
    for rows in batches:
        writer.writerows(rows)
        yield take()
