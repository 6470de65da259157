"""Permission-matrix routes of the awareness app: kits."""

ROUTES: list = []
