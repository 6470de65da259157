"""Permission-matrix routes of the awareness app: learner."""

ROUTES: list = []
