"""Background work of awareness tracking, run by housekeeping (hourly): each step is idempotent.

- invitations: the first e-mail of new assignments (also enqueued when a campaign assigns);
- reminders: a fresh link to unfinished learners on the reminder days (once a day at most);
- session reminders (the day before) and kit reminders (services that have not acknowledged);
- onboarding: newcomers of open onboarding campaigns get their modules;
- coverage facts: each establishment's 12-month coverage, as evidence (once a day);
- xAPI: pending statements to the learning record stores;
- progress tally: rebuilt from the assignments once a day where it differs (decision 0538).
"""

from __future__ import annotations

from django_tasks import task

from hygie.awareness import services, xapi


@task()
def invite(campaign_id: int) -> dict:
    from hygie.awareness.models import Campaign

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    return {"sent": services.send_invitations(campaign) if campaign else 0}


def send_invitations() -> int:
    return services.send_invitations()


def send_reminders() -> int:
    return services.send_due_reminders()


def send_session_reminders() -> int:
    from hygie.awareness.sessions import send_session_reminders

    return send_session_reminders()


def send_kit_reminders() -> int:
    from hygie.awareness.kits import send_kit_reminders

    return send_kit_reminders()


def assign_newcomers() -> int:
    return services.assign_onboarding()


def refresh_coverage() -> int:
    return services.refresh_coverage_facts()


def push_statements() -> int:
    return xapi.push_pending()


def check_tally() -> int:
    from hygie.awareness import tally

    return tally.daily_check()
