"""Find anything: complaints, return visits, projects, customers and archives by number, name or phone.

Each domain is searched through its own visibility rule (``visible_query``),
so a result list never names a record its viewer could not open: the
respondent does not find the complaint about them, a confidential archive
appears only to its keeper, owner, borrower or a holder of a read
permission. Results found among customers and archives are written to the
audit trail as a read (CUS-06), like any other door to them.
"""
import re
from dataclasses import dataclass, field
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_

from ..extensions import db
from ..security.visibility import visible_query

PER_DOMAIN = 10
MIN_LENGTH = 2
MAX_LENGTH = 100
_NOT_DIGITS = re.compile(r"\D+")
PHONE_PUNCTUATION = ("-", " ", "(", ")", ".", "+", "/")


@dataclass
class SearchDomain:
    key: str
    label: object
    model: Callable  # () -> model class (imported late)
    columns: Callable  # (model) -> [columns] matched with ILIKE
    describe: Callable  # (record) -> (title, detail)
    phone_columns: Callable = lambda model: []
    confidential: bool = False
    joins: Callable = None  # (query) -> query
    extra: Callable = None  # (query, model) -> query: rows never shown (purged, ...)


@dataclass
class SearchHit:
    domain: str
    record_id: int
    title: str
    detail: str
    link: str


@dataclass
class SearchGroup:
    key: str
    label: object
    count: int
    hits: list = field(default_factory=list)


def _digits_only(column):
    """The column with the usual phone punctuation removed, in SQL (SQLite and PostgreSQL)."""
    for mark in PHONE_PUNCTUATION:
        column = func.replace(column, mark, "")
    return column


def _like(text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _complaint_model():
    from ..models.complaints import Complaint

    return Complaint


def _visit_model():
    try:
        from ..models.visits import ReturnVisit
    except ImportError:  # pragma: no cover
        return None
    return ReturnVisit


def _project_model():
    from ..models.projects import PowerApplication

    return PowerApplication


def _customer_model():
    from ..models.customers import Customer

    return Customer


def _archive_model():
    from ..models.customers import ArchiveFile

    return ArchiveFile


def _label(choice_set, value):
    return str(choice_set.label(value)) if value else ""


def _describe_complaint(record):
    from ..models.complaints import ComplaintStatus

    name = record.complainant_name if not record.anonymous else str(_l("Anonymous"))
    return (f"{record.number} {record.subject}",
            " · ".join(part for part in (name or "", _label(ComplaintStatus, record.status)) if part))


def _describe_visit(record):
    from ..models.visits import VisitStatus, VisitTrigger

    return (f"{record.number} {record.customer_name or ''}".strip(),
            " · ".join(part for part in (_label(VisitTrigger, record.trigger),
                                         _label(VisitStatus, record.status)) if part))


def _describe_project(record):
    from ..models.projects import Stage

    return (f"{record.number} {record.customer_name}",
            " · ".join(part for part in (record.address, _label(Stage, record.stage)) if part))


def _describe_customer(record):
    return (record.name, " · ".join(part for part in (record.company_name, record.phone) if part))


def _describe_archive(record):
    from ..models.customers import ArchiveStatus

    customer = record.customer
    return (f"{record.archive_no} {customer.name if customer else ''}".strip(),
            " · ".join(part for part in (customer.company_name if customer else None,
                                         _label(ArchiveStatus, record.status)) if part))


def _archive_join(query):
    from ..models.customers import ArchiveFile, Customer

    return query.outerjoin(Customer, Customer.id == ArchiveFile.customer_id)


def _archive_columns(model):
    from ..models.customers import Customer

    return [model.archive_no, model.contact_person, Customer.name, Customer.company_name]


def _archive_phones(model):
    from ..models.customers import Customer

    return [model.contact_phone, Customer.phone, Customer.phone_key]


DOMAINS = [
    SearchDomain("complaints", _l("Complaints and feedback"), _complaint_model,
                 lambda m: [m.number, m.complainant_name, m.subject], _describe_complaint,
                 lambda m: [m.complainant_phone]),
    SearchDomain("visits", _l("Return visits"), _visit_model,
                 lambda m: [m.number, m.customer_name, m.address], _describe_visit,
                 lambda m: [m.customer_phone]),
    SearchDomain("projects", _l("Customer projects"), _project_model,
                 lambda m: [m.number, m.customer_name, m.contact_person, m.address],
                 _describe_project, lambda m: [m.contact_phone]),
    SearchDomain("customers", _l("Customers"), _customer_model,
                 lambda m: [m.name, m.company_name], _describe_customer,
                 lambda m: [m.phone, m.phone_key], confidential=True,
                 extra=lambda query, m: query.filter(m.purged.is_(False))),
    SearchDomain("archives", _l("Customer archives"), _archive_model, _archive_columns,
                 _describe_archive, _archive_phones, confidential=True, joins=_archive_join),
]


def normalise_query(text):
    return " ".join(str(text or "").split())[:MAX_LENGTH]


def search(user, text, per_domain=PER_DOMAIN):
    """Groups of hits, one per domain with matches, among the records ``user`` may see.

    A query shorter than MIN_LENGTH characters finds nothing. A phone number
    matches whatever its punctuation (digits compared on their own).
    """
    from ..deadlines import record_path

    text = normalise_query(text)
    if len(text) < MIN_LENGTH or user is None:
        return []
    digits = _NOT_DIGITS.sub("", text)
    groups = []
    for domain in DOMAINS:
        model = domain.model()
        if model is None:
            continue
        query = db.session.query(model)
        if domain.joins is not None:
            query = domain.joins(query)
        query = visible_query(query, model, user)
        if domain.extra is not None:
            query = domain.extra(query, model)
        conditions = [column.ilike(_like(text), escape="\\") for column in domain.columns(model)]
        phone_columns = domain.phone_columns(model)
        conditions += [column.ilike(_like(text), escape="\\") for column in phone_columns]
        if len(digits) >= 4:
            conditions += [_digits_only(column).like(_like(digits), escape="\\")
                           for column in phone_columns]
        query = query.filter(or_(*conditions))
        count = query.order_by(None).count()
        if not count:
            continue
        records = query.order_by(model.id.desc()).limit(per_domain).all()
        group = SearchGroup(domain.key, domain.label, count)
        for record in records:
            title, detail = domain.describe(record)
            group.hits.append(SearchHit(domain.key, record.id, title, detail,
                                        record_path(model.__tablename__, record.id) or ""))
        if domain.confidential:
            from ..audit.events import record_event

            record_event("read", model.__tablename__, None,
                         {"door": "search", "query": text, "ids": [hit.record_id for hit in group.hits]})
        groups.append(group)
    return groups
