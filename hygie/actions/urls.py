from django.urls import path

from hygie.actions import views

app_name = "actions"

urlpatterns = [
    path("organisations/<int:org_id>/plan-action/", views.plan, name="plan"),
    path("organisations/<int:org_id>/plan-action/generer/", views.generate, name="generate"),
    path("organisations/<int:org_id>/plan-action/ajouter/", views.item_create, name="create"),
    path("organisations/<int:org_id>/plan-action/calendrier/", views.timeline, name="timeline"),
    path(
        "organisations/<int:org_id>/plan-action/coherence-ght/",
        views.coherence,
        name="coherence",
    ),
    path(
        "organisations/<int:org_id>/plan-action/export.xlsx",
        views.export_xlsx,
        name="export_xlsx",
    ),
    path("organisations/<int:org_id>/plan-action/export.pdf", views.export_pdf, name="export_pdf"),
    path("organisations/<int:org_id>/plan-action/import/", views.import_plan, name="import"),
    path("plan-action/actions/<int:item_id>/", views.item_edit, name="edit"),
    path("plan-action/actions/<int:item_id>/mutualiser/", views.item_pool, name="pool"),
    path("plan-action/parts/<int:share_id>/", views.share_edit, name="share"),
]
