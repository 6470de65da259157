"""Routes of the access app's enforce area."""

from django.urls import path, re_path

from hygie.access import enforce_views as views

urlpatterns = [
    path("acces/authz/nginx/<slug:slug>/", views.authz_nginx, name="authz_nginx"),
    re_path(
        r"^acces/authz/envoy/(?P<slug>[-\w]+)(?P<rest>/.*)?$",
        views.authz_envoy,
        name="authz_envoy",
    ),
    path("acces/bris-de-glace/<slug:slug>/", views.break_glass_page, name="break_glass"),
    path(
        "acces/organisations/<int:org_id>/bris-de-glace/",
        views.break_glass_list,
        name="break_glass_list",
    ),
    path(
        "acces/bris-de-glace/revue/<uuid:pk>/",
        views.break_glass_review,
        name="break_glass_review",
    ),
]
