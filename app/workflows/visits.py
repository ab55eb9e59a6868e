"""Return visits (回访, VIS-01 to VIS-13): approval chains."""

WORKFLOWS = []
