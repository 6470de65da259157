"""Permission-matrix routes of the phishing app (see tests/permission_matrix.py)."""

ROUTES: list = []
