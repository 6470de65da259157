"""Permission-matrix routes of the awareness app: sessions."""

ROUTES: list = []
