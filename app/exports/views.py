"""CSV and XLSX export of every list and REST resource (X-04).

``GET /<view>/export.csv`` (and ``.xlsx``) exports exactly the rows the list
shows with the same query string: FAB's own filter and order arguments,
joined with the view's ``base_filters`` (which carry row-level visibility),
without pagination. ``GET /api/v1/<resource>/export.csv`` does the same with
the list endpoint's rison ``q`` argument. Exporting needs no permission of its
own: whoever may list (``can_list`` / ``can_get``) may export.

Rows are read in batches (``EXPORT_BATCH_SIZE``, a server-side cursor on
PostgreSQL) and the CSV is streamed as it is written, so memory does not grow
with the number of rows. When every exported column is a plain column or a
many-to-one relation (the usual list), the CSV is read as plain tuples of just
those columns, without building a record object per row (see ``fast_rows``).
"""
import datetime
import functools
import re
from urllib.parse import quote

from flask import Response, current_app, request, stream_with_context
from flask_appbuilder import expose
from flask_appbuilder.api import rison, safe
from flask_appbuilder.api.schemas import get_list_schema
from flask_appbuilder.exceptions import FABException
from flask_appbuilder.security.decorators import has_access, permission_name, protect
from flask_appbuilder.urltools import get_filter_args, get_order_args
from werkzeug.wsgi import wrap_file

from ..audit import events as audit_events
from ..extensions import db
from ..timeutil import local_zone
from . import csv as csv_format
from . import xlsx as xlsx_format
from .columns import (
    FORMULA_TRIGGERS, RowFormatter, eager_load_options, export_columns, present,
)

# Characters Windows refuses in file names, and control characters.
UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
NON_ASCII_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def content_disposition(title, ascii_name, extension):
    """``attachment`` with the title and local date as an RFC 5987 ``filename*``.

    Browsers use ``filename*`` (UTF-8, e.g. 部门_2026-05-01.csv); ``filename``
    is an ASCII fallback made of the view's name for older clients.
    """
    day = datetime.datetime.now(local_zone()).date().isoformat()
    fallback = NON_ASCII_NAME.sub("_", ascii_name).strip("_") or "export"
    title = UNSAFE_FILENAME.sub("_", str(title)).strip(" ._") or fallback
    name = f"{title}_{day}.{extension}"
    return (f'attachment; filename="{fallback}_{day}.{extension}"; '
            f"filename*=UTF-8''{quote(name, safe='')}")


def record_export(view, export_format, rows, complete=True):
    """Write the audit event of one export of a confidential list."""
    details = {"view": view.__class__.__name__, "format": export_format, "rows": rows}
    if not complete:
        # The download was cut short; ``rows`` were written before that.
        details["complete"] = False
    audit_events.record_event("export", view.datamodel.obj.__tablename__, None, details)
    db.session.commit()


def export_response(view, export_format, query, column_names, label_columns, title,
                    ascii_name):
    """The download of ``query``'s records as CSV (streamed) or XLSX.

    With ``view.audit_exports`` set, one audit event is written per export:
    for CSV once the stream has ended, with the number of rows actually
    written (no extra COUNT over a possibly large table, and a download cut
    short is still recorded, marked incomplete); for XLSX once the file is
    built, before it is sent, as the count is known by then.
    """
    datamodel = view.datamodel
    columns = export_columns(datamodel.obj, column_names, label_columns)
    header = [column.header for column in columns]
    batch_size = current_app.config["EXPORT_BATCH_SIZE"]
    plain = fast_rows(datamodel.obj, columns, query, batch_size) if export_format == "csv" else None
    query = query.options(*eager_load_options(datamodel.obj, column_names)).yield_per(batch_size)
    audited = bool(getattr(view, "audit_exports", False))

    formatter = RowFormatter(datamodel, columns)

    if export_format == "xlsx":
        rows = (formatter.row(item) for item in query)
        output, count = xlsx_format.write_xlsx(header, rows, str(title))
        if audited:
            record_export(view, "xlsx", count)
        size = output.seek(0, 2)
        output.seek(0)
        response = Response(wrap_file(request.environ, output),
                            mimetype=xlsx_format.CONTENT_TYPE, direct_passthrough=True)
        response.content_length = size
    else:
        on_end = functools.partial(record_export, view, "csv") if audited else None
        response = Response(
            stream_with_context(_csv_stream(formatter, header, query, batch_size, on_end, plain)),
            content_type=csv_format.CONTENT_TYPE,
        )
    response.headers["Content-Disposition"] = content_disposition(
        title, ascii_name, export_format)
    # Lists may be confidential: keep them out of shared caches and the browser cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv_stream(formatter, header, query, batch_size, on_end, plain=None):
    """The CSV body; every database access happens here, while streaming.

    Flask tears the request down (and removes its session) as soon as the view
    returns, before the body is sent; ``stream_with_context`` then pushes the
    contexts again. Running the query on the session current at that point
    means the final teardown closes it and its connection; the session the
    query was built on is already closed.
    """
    written = 0
    complete = False

    def rows():
        nonlocal written
        for item in query.with_session(db.session()):
            # Counted when handed to the writer, which writes it before the next yield.
            written += 1
            yield formatter.row(item)

    def batches():
        nonlocal written
        for batch in plain(db.session()):
            written += len(batch)
            yield batch

    try:
        if plain is not None:
            yield from csv_format.csv_batches(header, batches())
        else:
            yield from csv_format.csv_chunks(header, rows(), batch_size)
        complete = True
    finally:
        if on_end is not None:
            on_end(written, complete)


class ExportViewMixin:
    """``/export.csv`` and ``/export.xlsx`` on a ModelView, under its ``list`` permission."""

    # Set on confidential lists: every export is written to the audit trail.
    audit_exports = False

    @expose("/export.csv")
    @has_access
    @permission_name("list")
    def export_csv(self):
        return self._export("csv")

    @expose("/export.xlsx")
    @has_access
    @permission_name("list")
    def export_xlsx(self):
        return self._export("xlsx")

    def export_query(self):
        """The list's query for this request, built as ``BaseCRUDView._list`` does, unpaged."""
        order_column, order_direction = get_order_args().get(self.__class__.__name__, ("", ""))
        if order_column not in self.order_columns:
            # The list only offers its order columns; anything else is not the screen's order.
            order_column, order_direction = "", ""
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        get_filter_args(self._filters)
        filters = self._filters.get_joined_filters(self._base_filters)
        query = self.datamodel.session.query(self.datamodel.obj)
        return self.datamodel.apply_all(query, filters, order_column, order_direction)

    def _export(self, export_format):
        return export_response(
            self, export_format, self.export_query(), self.list_columns, self.label_columns,
            self.list_title, self.__class__.__name__,
        )


class ExportApiMixin:
    """``/api/v1/<resource>/export.csv`` and ``.xlsx``, under the resource's ``get`` permission."""

    audit_exports = False

    @expose("/export.csv", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison(get_list_schema)
    def export_csv(self, **kwargs):
        """Export the list as CSV (UTF-8 with BOM)
        ---
        get:
          description: >-
            All rows the list endpoint would return for the same q (filters,
            order_column, order_direction, columns), without pagination.
          parameters:
          - in: query
            name: q
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/get_list_schema'
          responses:
            200:
              description: The CSV file
              content:
                text/csv:
                  schema:
                    type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
        """
        return self._export("csv", kwargs["rison"])

    @expose("/export.xlsx", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison(get_list_schema)
    def export_xlsx(self, **kwargs):
        """Export the list as an Excel workbook
        ---
        get:
          description: >-
            The same rows and columns as export.csv, as XLSX.
          parameters:
          - in: query
            name: q
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/get_list_schema'
          responses:
            200:
              description: The XLSX file
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
                  schema:
                    type: string
                    format: binary
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
        """
        return self._export("xlsx", kwargs["rison"])

    def _export(self, export_format, args):
        # The same parsing as ModelRestApi.get_list_headless; base filters included.
        try:
            filters = self._handle_filters_args(args)
            order_column, order_direction = self._handle_order_args(args)
        except FABException as error:
            return self.response_400(message=str(error))
        requested = args.get("columns") or []
        columns = [name for name in requested if name in self.list_columns] or self.list_columns
        query = self.datamodel.apply_all(
            self.datamodel.session.query(self.datamodel.obj), filters, order_column,
            order_direction,
        )
        return export_response(
            self, export_format, query, columns, self.label_columns,
            getattr(self, "list_title", None) or self.resource_name, self.resource_name,
        )


# ---------------------------------------------------------------------------
# Plain-tuple CSV rows
# ---------------------------------------------------------------------------

_HOUR = datetime.timedelta(hours=1)
_UTC = datetime.timezone.utc


def _local_minutes(zone):
    """``format_local`` of a stored UTC timestamp read as text (``YYYY-MM-DD HH:MM:SS...``).

    The local hour is computed once per UTC hour and the minutes are copied,
    which holds for every zone whose offset is a whole number of hours; other
    zones convert each value.
    """
    hours = {}

    def exact(text):
        value = datetime.datetime.fromisoformat(text[:19].replace("T", " "))
        return value.replace(tzinfo=_UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def convert(text):
        if text is None:
            return None
        head = text[:13]
        local = hours.get(head)
        if local is None:
            moment = datetime.datetime.fromisoformat(head.replace("T", " ") + ":00")
            offset = moment.replace(tzinfo=_UTC).astimezone(zone).utcoffset()
            if offset % _HOUR:
                return exact(text)
            local = hours[head] = (moment + offset).strftime("%Y-%m-%d %H")
        return local + text[13:16]

    return convert


def _neutralised(column):
    """``column`` as text with a quote before a spreadsheet formula start, computed by the database."""
    from sqlalchemy import String, case, cast, func, literal

    text = cast(column, String)
    return case((func.substr(text, 1, 1).in_(FORMULA_TRIGGERS), literal("'") + text), else_=text)


def fast_rows(model, columns, query, batch_size):
    """A reader of the export as batches of finished CSV rows, or None when it does not apply.

    It applies when every column is a column of ``model`` or a many-to-one
    relation shown by its ``str()``. The statement then selects just those
    columns: text already neutralised against formula injection by the
    database, timestamps and dates as text, a relation by its foreign key.
    Rows come back as plain tuples through a server-side cursor on
    PostgreSQL (SQLite's cursor is lazy by nature); each related record is
    turned into text once per export, each choice label once per value.
    """
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, cast
    from sqlalchemy import inspect as sa_inspect

    from .columns import boolean_labels

    mapper = sa_inspect(model)
    selected, cells, names = [], [], {}
    booleans = boolean_labels()
    for index, column in enumerate(columns):
        if "." in column.name:
            return None
        attribute = mapper.column_attrs.get(column.name)
        relation = mapper.relationships.get(column.name)
        if attribute is not None:
            kind = attribute.columns[0].type
            value = getattr(model, column.name)
            if column.choices is not None:
                labels = {}
                names[f"L{index}"] = labels
                names[f"C{index}"] = _choice_label(labels, column.choices)
                selected.append(value)
                cells.append(f"(L{index}.get(r[{index}]) or C{index}(r[{index}]))")
            elif isinstance(kind, Boolean):
                names[f"B{index}"] = {None: None, True: booleans[True], False: booleans[False]}
                selected.append(value)
                cells.append(f"B{index}[r[{index}]]")
            elif isinstance(kind, DateTime):
                names[f"T{index}"] = _local_minutes(local_zone())
                selected.append(cast(value, String))
                cells.append(f"T{index}(r[{index}])")
            elif isinstance(kind, Date):
                selected.append(cast(value, String))
                cells.append(f"r[{index}]")
            elif isinstance(kind, (Integer, Float, Numeric)):
                # The csv module writes numbers as Python prints them, as before.
                selected.append(value)
                cells.append(f"r[{index}]")
            else:
                selected.append(_neutralised(value))
                cells.append(f"r[{index}]")
        elif relation is not None and not relation.uselist and len(relation.local_columns) == 1:
            (local,) = relation.local_columns
            selected.append(mapper.get_property_by_column(local).class_attribute)
            names[f"R{index}"] = relation.mapper.class_
            cells.append(f"R{index}(r[{index}])")
        else:
            return None
    statement = query.with_entities(*selected).statement
    # One expression per row instead of a loop over the cells: on a million
    # rows the per-cell dispatch would cost more than reading them.
    row_source = f"lambda r: ({', '.join(cells)},)"

    def read(session):
        scope = dict(names)
        for key, value in names.items():
            if key.startswith("R"):
                scope[key] = _related_text(session, value)
        to_row = eval(row_source, scope)  # noqa: S307 (built above from column positions only)
        # Rows straight from the driver's cursor: the selected values need no
        # conversion by SQLAlchemy, and skipping its row objects halves the read.
        result = session.connection().execute(
            statement, execution_options={"stream_results": True, "max_row_buffer": batch_size})
        try:
            # The first batch through the result, which may have read ahead a row.
            rows = result.fetchmany(batch_size)
            cursor = result.cursor
            while rows:
                yield list(map(to_row, rows))
                if len(rows) < batch_size:
                    break  # the last batch; the result has closed its cursor
                rows = cursor.fetchmany(batch_size)
        finally:
            result.close()

    return read


def _choice_label(labels, choices):
    def label(value):
        if value is None:
            return None
        text = labels.get(value)
        if text is None:
            text = labels[value] = present(value, choices)
        return text
    return label


def _related_text(session, target):
    """The export text of a related record by id, read once per id."""
    texts = {}

    def text(value):
        if value is None:
            return None
        found = texts.get(value)
        if found is None:
            record = session.get(target, value)
            found = texts[value] = "" if record is None else present(str(record))
        return found
    return text
