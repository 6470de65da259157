"""Permission-matrix routes of the access app's enforce area."""

ROUTES = []
