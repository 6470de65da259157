"""Permission-matrix routes of the crisis app: incidents."""

ROUTES: list = []
