"""All tables, imported here so that Model.metadata (and migrations) see them."""
from . import accounts, attachments, audit, deadlines, notifications, numbering, org, settings, workflow  # noqa: F401
from . import complaints, customers, projects, visits  # noqa: F401
