"""All tables, imported here so that Model.metadata (and migrations) see them."""
from . import attachments, audit, deadlines, notifications, org, workflow  # noqa: F401
