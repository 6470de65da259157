"""Permission-matrix routes of the posture app's asset area."""

ROUTES = []
