"""Permission-matrix routes of the posture app's password area."""

ROUTES = []
