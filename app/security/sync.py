"""Make the roles in the database match ``roles.py`` (idempotent)."""
from .roles import ROLES


def ensure_builtin_roles(appbuilder):
    """Create FAB's Admin and Public roles if missing and give Admin every permission.

    FAB would do this while creating tables itself; here the migrations own
    the schema, so the first ``flask init`` (and the test template) does it.
    """
    sm = appbuilder.sm
    for name in (sm.auth_role_admin, sm.auth_role_public):
        if sm.find_role(name) is None:
            sm.add_role(name)
    appbuilder.add_permissions(update_perms=True)


def sync_roles(security_manager, roles=ROLES):
    """Create missing roles and set each one's permissions to exactly its spec.

    Returns ``{role_name: (added, removed)}`` counts so the CLI can report.
    """
    session = security_manager.session
    report = {}
    for spec in roles:
        role = security_manager.find_role(spec.name) or security_manager.add_role(spec.name)
        wanted = []
        for permission_name, view_name in sorted(spec.permissions):
            pv = security_manager.find_permission_view_menu(permission_name, view_name)
            if pv is None:
                pv = security_manager.add_permission_view_menu(permission_name, view_name)
            wanted.append(pv)
        current = set(role.permissions)
        added = [pv for pv in wanted if pv not in current]
        removed = [pv for pv in current if pv not in set(wanted)]
        if added or removed:
            role.permissions = wanted
        report[spec.name] = (len(added), len(removed))
    session.commit()
    return report
