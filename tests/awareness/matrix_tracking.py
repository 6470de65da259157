"""Permission-matrix routes of the awareness app: tracking."""

ROUTES: list = []
