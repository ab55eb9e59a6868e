"""Time zone handling: stored in UTC, shown and exported in the configured zone."""
import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def local_zone():
    name = current_app.config.get("TIMEZONE", "Asia/Shanghai") if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def to_local(value):
    """A naive UTC datetime as an aware datetime in the local zone (dates pass through)."""
    if value is None or not isinstance(value, datetime.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(local_zone())


def to_utc_naive(value):
    """A local (naive or aware) datetime as naive UTC for storage."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def format_local(value, with_seconds=False):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return to_local(value).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    return str(value)
