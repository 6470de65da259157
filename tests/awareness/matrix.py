"""Permission-matrix routes of the awareness app, one module per area."""

from tests.awareness import (
    matrix_catalogue,
    matrix_kits,
    matrix_learner,
    matrix_sessions,
    matrix_tracking,
)

ROUTES = [
    *matrix_tracking.ROUTES,
    *matrix_learner.ROUTES,
    *matrix_sessions.ROUTES,
    *matrix_kits.ROUTES,
    *matrix_catalogue.ROUTES,
]
