"""Permission-matrix routes of the actions app (see tests/permission_matrix.py)."""

ROUTES: list = []
