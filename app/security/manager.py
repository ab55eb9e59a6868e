"""Our SecurityManager: FAB's, plus login, failed-login and logout auditing."""
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_login import user_logged_out


class SecurityManager(FabSecurityManager):
    """Records every login attempt and logout in the audit trail (X-02)."""

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        user_logged_out.connect(_record_logout)

    def auth_user_db(self, username, password):
        from ..audit.events import record_login

        user = super().auth_user_db(username, password)
        record_login(username, user)
        return user


def _record_logout(sender, user=None, **_extra):
    from ..audit.events import record_logout

    if user is not None and getattr(user, "is_authenticated", False):
        record_logout(user)
