"""Dashboards, charts, monthly reports and printable forms: what each role may do."""

GRANTS = {}
