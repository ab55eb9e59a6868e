"""Monthly reports: flask commands."""

COMMANDS = []
