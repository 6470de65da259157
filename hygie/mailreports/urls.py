from django.urls import path

from hygie.mailreports import public_views, views

app_name = "mailreports"

urlpatterns = [
    path("organisations/<int:org_id>/signalements/", views.case_list, name="cases"),
    path("organisations/<int:org_id>/signalements/deposer/", views.upload, name="upload"),
    path("organisations/<int:org_id>/signalements/boites/", views.mailbox_list, name="mailboxes"),
    path(
        "organisations/<int:org_id>/signalements/boites/nouvelle/",
        views.mailbox_create,
        name="mailbox_create",
    ),
    path("signalements/boites/<int:mailbox_id>/", views.mailbox_edit, name="mailbox_edit"),
    path("signalements/boites/<int:mailbox_id>/tester/", views.mailbox_test, name="mailbox_test"),
    path("signalements/boites/<int:mailbox_id>/jeton/", views.mailbox_token, name="mailbox_token"),
    path("signalements/<int:case_id>/", views.case_detail, name="case"),
    path("signalements/<int:case_id>/verdict/", views.case_verdict, name="case_verdict"),
    path("signalements/<int:case_id>/repondre/", views.case_reply, name="case_reply"),
    path("signalements/messages/<int:report_id>/", views.report_raw, name="report_raw"),
    # Reached by report buttons in mail clients, authenticated by the mailbox's secret.
    path("signalements/bouton/", public_views.button_report, name="button_report"),
]
