"""Permission-matrix routes of the access app, one module per area."""

from tests.access import matrix_enforce, matrix_policy, matrix_review

ROUTES = [
    *matrix_policy.ROUTES,
    *matrix_enforce.ROUTES,
    *matrix_review.ROUTES,
]
