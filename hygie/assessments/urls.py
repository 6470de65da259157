from django.urls import path

from hygie.assessments import views

app_name = "assessments"

urlpatterns = [
    path("organisations/<int:org_id>/auto-evaluations/", views.campaign_list, name="campaigns"),
    path(
        "organisations/<int:org_id>/auto-evaluations/nouvelle/",
        views.campaign_create,
        name="campaign_create",
    ),
    path("campagnes/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("campagnes/<int:campaign_id>/cloturer/", views.campaign_close, name="campaign_close"),
    path(
        "campagnes/<int:campaign_id>/mesures/<int:answer_id>/", views.answer_detail, name="answer"
    ),
    path(
        "campagnes/<int:campaign_id>/mesures/<int:answer_id>/preuves/",
        views.evidence_upload,
        name="evidence_upload",
    ),
    path(
        "campagnes/<int:campaign_id>/mesures/<int:answer_id>/revue/",
        views.answer_review,
        name="answer_review",
    ),
    path("preuves/<int:evidence_id>/", views.evidence_download, name="evidence_download"),
    path("preuves/<int:evidence_id>/retirer/", views.evidence_delete, name="evidence_delete"),
]
