"""Background work of simulations: the sending runs, and closing campaigns after observation.

`send_simulation` sends what is due for one campaign for at most SIMULATION_RUN_SECONDS, then
enqueues its next run for when something is due again (see hygie.phishing.sending). Runs are
safe to duplicate: rows are claimed one worker at a time.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from hygie.phishing import sending
from hygie.phishing.models import CampaignStatus, Simulation


@task()
def send_simulation(simulation_id: int) -> dict:
    report = sending.run(simulation_id)
    if report.finished:
        from hygie.phishing.services import record_campaign_fact

        record_campaign_fact(Simulation.objects.get(pk=simulation_id))
    if report.next_run is not None:
        schedule_run(simulation_id, report.next_run)
    return {
        "sent": report.sent,
        "retried": report.retried,
        "failed": report.failed,
        "released": report.released,
        "finished": report.finished,
        "next_run": report.next_run.isoformat() if report.next_run else None,
    }


def schedule_run(simulation_id: int, run_after=None) -> bool:
    """Enqueue a sending run unless one for this campaign already waits to run by then."""
    from django_tasks_db import DatabaseBackend

    if isinstance(send_simulation.get_backend(), DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(
            task_path=send_simulation.module_path,
            backend_name=send_simulation.backend,
            status=TaskResultStatus.READY,
        ).values_list("args_kwargs", "run_after")
        for args_kwargs, planned in waiting:
            if list(args_kwargs.get("args", [])) == [simulation_id] and (
                run_after is None or planned is None or planned <= run_after
            ):
                return False
    if run_after is not None and run_after > timezone.now():
        send_simulation.using(run_after=run_after).enqueue(simulation_id)
    else:
        send_simulation.enqueue(simulation_id)
    return True


def complete_observed(now=None) -> int:
    """Campaigns whose observation period is over become completed (hourly housekeeping)."""
    now = now or timezone.now()
    done = 0
    for simulation in Simulation.objects.filter(
        status=CampaignStatus.RUNNING, sent_out_at__isnull=False
    ):
        if simulation.sent_out_at + timedelta(days=simulation.observe_days) <= now:
            from hygie.phishing.services import complete

            complete(simulation)
            done += 1
    return done
