"""Permission-matrix routes of the crisis app: exercises."""

ROUTES: list = []
