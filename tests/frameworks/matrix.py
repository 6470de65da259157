"""Permission-matrix routes of the frameworks app (see tests/permission_matrix.py)."""

ROUTES: list = []
