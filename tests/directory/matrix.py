"""Permission-matrix routes of the directory app (see tests/permission_matrix.py)."""

ROUTES: list = []
