"""Permission-matrix routes of the assessments app (see tests/permission_matrix.py)."""

ROUTES: list = []
