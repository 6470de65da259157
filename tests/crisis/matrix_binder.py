"""Permission-matrix routes of the crisis app: binder."""

ROUTES: list = []
