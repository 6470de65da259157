"""Permission-matrix routes of the access app's policy area."""

ROUTES = []
