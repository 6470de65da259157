"""Permission-matrix routes of the posture app's exposure area."""

ROUTES = []
