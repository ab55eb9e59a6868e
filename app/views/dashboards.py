"""Search, charts and monthly reports (the home page itself is ``views/home.py``).

Declarations only: every figure comes from ``services/reports.py`` and every
hit from ``services/search.py``, both computed over what the viewer may see.
"""
from flask import Response, abort, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.context import current_actor
from ..exports import csv as csv_format
from ..exports.columns import neutralise
from ..exports.views import content_disposition
from ..models.base import utcnow
from ..services import reports as service
from ..services import search as search_service


def _cell(value):
    return neutralise(value) if isinstance(value, str) else value


def _csv_response(header, rows, title, ascii_name):
    body = b"".join(csv_format.csv_chunks([_cell(str(h)) for h in header],
                                          ([_cell(v) for v in row] for row in rows), 500))
    response = Response(body, content_type=csv_format.CONTENT_TYPE)
    response.headers["Content-Disposition"] = content_disposition(title, ascii_name, "csv")
    response.headers["Cache-Control"] = "no-store"
    return response


def _xlsx_response(header, rows, title, ascii_name):
    from ..exports.xlsx import CONTENT_TYPE, write_xlsx

    output, _count = write_xlsx([str(h) for h in header], rows, title)
    try:
        body = output.read()
    finally:
        output.close()
    response = Response(body, content_type=CONTENT_TYPE)
    response.headers["Content-Disposition"] = content_disposition(title, ascii_name, "xlsx")
    response.headers["Cache-Control"] = "no-store"
    return response


def _period_args():
    """``(months, start text, end text)`` from ``?from=YYYY-MM&to=YYYY-MM`` (defaults: last 12)."""
    default_start, default_end = service.default_period()
    try:
        start = service.parse_month(request.args.get("from") or service.month_key(*default_start))
        end = service.parse_month(request.args.get("to") or service.month_key(*default_end))
    except ValueError:
        abort(400)
    months = service.months_between(start, end)
    return months, service.month_key(*months[0]), service.month_key(*months[-1])


def _department_arg():
    raw = (request.args.get("department") or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        abort(400)


def _month_arg():
    from ..deadlines import local_today

    raw = (request.args.get("month") or "").strip()
    if not raw:
        today = local_today()
        return service.shift_month(today.year, today.month, -1)
    try:
        return service.parse_month(raw)
    except ValueError:
        abort(400)


class SearchView(BaseView):
    """One box in the navbar: complaints, visits, projects, customers and archives the user may see."""

    route_base = "/search"
    default_view = "search"

    @expose("/")
    @has_access
    @permission_name("search")
    def search(self):
        query = search_service.normalise_query(request.args.get("q"))
        groups = search_service.search(current_actor(), query) if query else []
        return self.render_template("dashboards/search.html", query=query, groups=groups,
                                    too_short=bool(query) and len(query) < search_service.MIN_LENGTH,
                                    title=_("Search"))


class DashboardView(BaseView):
    """Charts with their tables and CSV, filtered by period and department."""

    route_base = "/dashboards"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("charts")
    def index(self):
        return self.render_template("dashboards/index.html", charts=service.CHARTS,
                                    title=_("Charts"))

    @expose("/<key>/")
    @has_access
    @permission_name("charts")
    def chart(self, key):
        if key not in service.CHARTS:
            abort(404)
        months, start, end = _period_args()
        department_id = _department_arg()
        chart = service.build_chart(key, current_actor(), months, department_id)
        return self.render_template(
            "dashboards/chart.html", chart=chart, charts=service.CHARTS, key=key,
            start=start, end=end, department_id=department_id,
            departments=service.department_choices(), title=str(chart.title))

    @expose("/<key>/export.csv")
    @has_access
    @permission_name("charts")
    def chart_csv(self, key):
        if key not in service.CHARTS:
            abort(404)
        months, start, end = _period_args()
        chart = service.build_chart(key, current_actor(), months, _department_arg())
        return _csv_response(chart.columns, chart.rows, f"{chart.title} {start}~{end}",
                             f"chart-{key}")


class MonthlyReportView(BaseView):
    """The monthly reports (CMP-18, VIS-13, CUS-11): page, CSV, Excel and a printable PDF."""

    route_base = "/monthlyreports"
    default_view = "index"

    # The detailed page each module already has for its report, and its permission.
    DETAIL_PAGES = {"complaints": ("ComplaintSummaryView.summary", "can_summary"),
                    "visits": ("VisitStatisticsView.index", "can_statistics"),
                    "assessment": ("CustomerAssessmentView.index", "can_list")}

    def _allowed(self, key):
        return self.appbuilder.sm.has_access(f"can_{key}", self.__class__.__name__)

    def _report(self, key):
        if key not in service.REPORTS:
            abort(404)
        if not self._allowed(key):
            abort(403)
        year, month = _month_arg()
        report = service.build_report(key, current_actor(), year, month)
        if key == "assessment":
            from ..services.customers import record_assessment_read

            record_assessment_read(report.period, "monthly-report")
        return report

    def detail_link(self, key, year, month):
        """The module's own page of the report, when the user may open it."""
        from werkzeug.routing import BuildError

        endpoint, permission = self.DETAIL_PAGES.get(key, (None, None))
        if endpoint is None or not self.appbuilder.sm.has_access(permission,
                                                                 endpoint.split(".")[0]):
            return None
        try:
            if key == "complaints":
                return url_for(endpoint, year=year, month=month)
            return url_for(endpoint, month=service.month_key(year, month))
        except BuildError:
            return None

    @expose("/")
    @has_access
    @permission_name("index")
    def index(self):
        year, month = _month_arg()
        reports = [(key, label, rule) for key, (_f, label, rule) in service.REPORTS.items()
                   if self._allowed(key)]
        return self.render_template(
            "dashboards/reports.html", reports=reports, year=year, month=month,
            period=service.month_key(year, month), view=self, title=_("Monthly reports"))

    def _page(self, key):
        report = self._report(key)
        return self.render_template(
            "dashboards/report.html", report=report, view=self,
            detail=self.detail_link(key, report.year, report.month),
            title=f"{report.title} {report.period}")

    def _csv(self, key):
        report = self._report(key)
        rows = list(report.flat_rows())
        return _csv_response([f"{report.title} {report.period}"], rows,
                             f"{report.title} {report.period}", f"report-{key}-{report.period}")

    def _xlsx(self, key):
        report = self._report(key)
        rows = list(report.flat_rows())
        return _xlsx_response([f"{report.title} {report.period}"], rows,
                              f"{report.title} {report.period}", f"report-{key}-{report.period}")

    def _pdf(self, key):
        report = self._report(key)
        try:
            from ..printing import pdf_response
        except ImportError:
            abort(503)
        return pdf_response("dashboards/report_print.html",
                            f"report-{key}-{report.period}.pdf", report=report,
                            printed_at=utcnow(), title=f"{report.title} {report.period}")

    @expose("/complaints/")
    @has_access
    @permission_name("complaints")
    def complaints(self):
        return self._page("complaints")

    @expose("/complaints/export.csv")
    @has_access
    @permission_name("complaints")
    def complaints_csv(self):
        return self._csv("complaints")

    @expose("/complaints/export.xlsx")
    @has_access
    @permission_name("complaints")
    def complaints_xlsx(self):
        return self._xlsx("complaints")

    @expose("/complaints/print.pdf")
    @has_access
    @permission_name("complaints")
    def complaints_pdf(self):
        return self._pdf("complaints")

    @expose("/visits/")
    @has_access
    @permission_name("visits")
    def visits(self):
        return self._page("visits")

    @expose("/visits/export.csv")
    @has_access
    @permission_name("visits")
    def visits_csv(self):
        return self._csv("visits")

    @expose("/visits/export.xlsx")
    @has_access
    @permission_name("visits")
    def visits_xlsx(self):
        return self._xlsx("visits")

    @expose("/visits/print.pdf")
    @has_access
    @permission_name("visits")
    def visits_pdf(self):
        return self._pdf("visits")

    @expose("/assessment/")
    @has_access
    @permission_name("assessment")
    def assessment(self):
        return self._page("assessment")

    @expose("/assessment/export.csv")
    @has_access
    @permission_name("assessment")
    def assessment_csv(self):
        return self._csv("assessment")

    @expose("/assessment/export.xlsx")
    @has_access
    @permission_name("assessment")
    def assessment_xlsx(self):
        return self._xlsx("assessment")

    @expose("/assessment/print.pdf")
    @has_access
    @permission_name("assessment")
    def assessment_pdf(self):
        return self._pdf("assessment")


def register_dashboard_views(appbuilder):
    """Add the search, chart and report views (menu **Reports**)."""
    reports = dict(category="Reports", category_label=_l("Reports"), category_icon="fa-bar-chart")
    appbuilder.add_view_no_menu(SearchView)
    appbuilder.add_view(DashboardView, "Charts", label=_l("Charts"), icon="fa-area-chart",
                        **reports)
    appbuilder.add_view(MonthlyReportView, "Monthly reports", label=_l("Monthly reports"),
                        icon="fa-file-text-o", **reports)
