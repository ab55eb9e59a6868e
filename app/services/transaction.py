"""The one place where service calls commit or roll back."""
import functools
from contextlib import contextmanager

from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from .errors import StaleVersion


@contextmanager
def transaction():
    """Commit on success; roll back on any error, turning a lost race into StaleVersion."""
    try:
        yield db.session
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise StaleVersion() from error
    except BaseException:
        db.session.rollback()
        raise


def transactional(function):
    """Run a service function inside :func:`transaction`."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with transaction():
            return function(*args, **kwargs)

    return wrapper
