"""Permission-matrix routes of the crisis app, one module per area."""

from tests.crisis import matrix_binder, matrix_exercises, matrix_incidents, matrix_run

ROUTES = [
    *matrix_exercises.ROUTES,
    *matrix_run.ROUTES,
    *matrix_incidents.ROUTES,
    *matrix_binder.ROUTES,
]
