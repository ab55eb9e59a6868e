"""XLSX beside the CSV: same columns and cells, with real numbers and dates.

openpyxl's write-only workbook writes each row to a temporary file as it
comes and keeps strings inline (no shared-string table in memory), so memory
stays flat whatever the row count; the finished workbook lands in another
temporary file that the response then streams.
"""
import datetime
import re
import tempfile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..timeutil import to_local

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
# Excel's limits: text per cell, and sheet names.
MAX_CELL_TEXT = 32767
MAX_SHEET_TITLE = 31
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def xlsx_cell(sheet, value):
    """A typed export value as an openpyxl value or cell."""
    if isinstance(value, datetime.datetime):
        cell = WriteOnlyCell(sheet, to_local(value).replace(tzinfo=None))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, str):
        # Control characters make the file unreadable to Excel.
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_TEXT])
        # Always text: never a formula (=...) nor an error value (#N/A).
        cell.data_type = "s"
        return cell
    return value


def sheet_title(title):
    cleaned = SHEET_TITLE_FORBIDDEN.sub(" ", title).strip()[:MAX_SHEET_TITLE]
    return cleaned or "Sheet1"


def write_xlsx(header, rows, title):
    """Write ``header`` and ``rows`` to a temporary XLSX file.

    Returns ``(file, row_count)``; the file is positioned at its start and
    disappears when closed.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title))
    sheet.append([xlsx_cell(sheet, label) for label in header])
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
        count += 1
    output = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        workbook.save(output)
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return output, count
