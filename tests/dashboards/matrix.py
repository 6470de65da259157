"""Permission-matrix routes of the dashboards app (see tests/permission_matrix.py)."""

ROUTES: list = []
