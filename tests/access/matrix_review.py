"""Permission-matrix routes of the access app's review area."""

ROUTES = []
