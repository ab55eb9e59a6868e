"""Strings Flask-AppBuilder shows whose Chinese translation its own catalogue lacks.

Listing them here keeps them in our catalogue (``make translations`` would
otherwise drop them as unused); our catalogue is loaded after FAB's and
fills the gaps.
"""
from flask_babel import lazy_gettext as _l

FAB_MESSAGES = [
    _l("Add"),
    _l("Edit"),
    _l("Show"),
    _l("Delete"),
    _l("Add Group"),
    _l("Edit Group"),
    _l("Show Group"),
    _l("List Groups"),
    _l("Groups"),
    _l("Edit User Information"),
    _l("User information changed"),
    _l("Either select a role or a group"),
    _l("Are you sure you want to delete this item?"),
    _l("Contains (insensitive)"),
    _l("In"),
    _l("Not In"),
    _l("Database Error"),
    _l("The user's password for authentication"),
    _l("User(s) exists in the group, cannot delete"),
    _l("User(s) exists in the role, cannot delete"),
    _l(
        "Must have at least two capital letters, one special character, two digits, "
        "three lower case letters and a minimal length of 10."
    ),
]
