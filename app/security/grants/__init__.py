"""Each business module's grants, merged per role by ``roles.py``."""


def domain_grants():
    """``{role name: set of (permission, view)}`` over every business module."""
    from . import complaints, customers, projects, reports, visits

    merged = {}
    for module in (complaints, visits, projects, customers, reports):
        for role_name, pairs in module.GRANTS.items():
            merged.setdefault(role_name, set()).update(pairs)
    return merged
