"""GoPhish's API paths under /api/ (decision 0442). GoPhish's Python client writes some of them
without a trailing slash or with a double slash (`api/campaigns//5`): both are accepted."""

from django.urls import re_path

from hygie.phishing import gophish_api as api

ID = r"/+(?P<pk>[0-9]+)"

urlpatterns = [
    re_path(r"^campaigns/?$", api.Campaigns.as_view(), name="campaigns"),
    re_path(r"^campaigns/summary/?$", api.CampaignsSummary.as_view(), name="campaigns_summary"),
    re_path(rf"^campaigns{ID}/?$", api.CampaignItem.as_view(), name="campaign"),
    re_path(rf"^campaigns{ID}/results/?$", api.CampaignResults.as_view(), name="campaign_results"),
    re_path(rf"^campaigns{ID}/summary/?$", api.CampaignSummary.as_view(), name="campaign_summary"),
    re_path(
        rf"^campaigns{ID}/complete/?$", api.CampaignComplete.as_view(), name="campaign_complete"
    ),
    re_path(r"^groups/?$", api.Groups.as_view(), name="groups"),
    re_path(r"^groups/summary/?$", api.GroupsSummary.as_view(), name="groups_summary"),
    re_path(rf"^groups{ID}/?$", api.GroupItem.as_view(), name="group"),
    re_path(rf"^groups{ID}/summary/?$", api.GroupSummaryItem.as_view(), name="group_summary"),
    re_path(r"^templates/?$", api.Templates.as_view(), name="templates"),
    re_path(rf"^templates{ID}/?$", api.TemplateItem.as_view(), name="template"),
    re_path(r"^pages/?$", api.Pages.as_view(), name="pages"),
    re_path(rf"^pages{ID}/?$", api.PageItem.as_view(), name="page"),
    re_path(r"^smtp/?$", api.SendingProfiles.as_view(), name="smtp"),
    re_path(rf"^smtp{ID}/?$", api.SendingProfileItem.as_view(), name="smtp_item"),
]
