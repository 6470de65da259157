"""Routes of the access app's review area."""

from django.urls import path

from hygie.access import review_views

urlpatterns = [
    path("acces/organisations/<int:org_id>/revue/", review_views.review, name="review"),
    path(
        "acces/organisations/<int:org_id>/revue/import/",
        review_views.review_import,
        name="review_import",
    ),
    path(
        "acces/organisations/<int:org_id>/revue/lancer/", review_views.review_run, name="review_run"
    ),
    path(
        "acces/organisations/<int:org_id>/revue/cas/",
        review_views.review_queue,
        name="review_queue",
    ),
    path("acces/revue/cas/<int:pk>/", review_views.review_case, name="review_case"),
    path(
        "acces/revue/cas/<int:pk>/decision/",
        review_views.review_case_decide,
        name="review_case_decide",
    ),
]
