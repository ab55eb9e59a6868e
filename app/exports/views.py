"""Placeholder: CSV/XLSX export mixins for ModelView and ModelRestApi."""


class ExportViewMixin:
    pass


class ExportApiMixin:
    pass
