"""Permission-matrix routes of the crisis app: run."""

ROUTES: list = []
