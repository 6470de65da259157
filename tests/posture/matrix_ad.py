"""Permission-matrix routes of the posture app's ad area."""

ROUTES = []
