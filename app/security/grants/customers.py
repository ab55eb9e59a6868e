"""Customer information and archives (客户信息与档案, CUS-01 to CUS-11): what each role may do, as ``{role name: {(permission, view), ...}}``."""

GRANTS = {}
