"""Permission-matrix routes of the posture app, one module per area."""

from tests.posture import matrix_ad, matrix_asset, matrix_exposure, matrix_password

ROUTES = [
    *matrix_ad.ROUTES,
    *matrix_password.ROUTES,
    *matrix_exposure.ROUTES,
    *matrix_asset.ROUTES,
]
