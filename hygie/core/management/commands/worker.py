from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend

from hygie.core.tasks import run_worker_startup, schedule_housekeeping

RQ_BACKEND = "django_tasks_rq.RQBackend"


class Command(BaseCommand):
    help = (
        "Run background tasks. Start as many workers as you like, on one or several machines: "
        "each task is claimed by exactly one of them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue-name", default="*", help="queues to serve, comma-separated (default: all)"
        )
        parser.add_argument("--batch", action="store_true", help="exit once the queue is empty")
        parser.add_argument(
            "--max-tasks", type=int, help="exit after this many tasks (recycles memory)"
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between polls when idle"
        )
        parser.add_argument("--worker-id", help="unique name of this worker (default: random)")
        parser.add_argument(
            "--reload",
            action="store_true",
            help="restart on code changes (development only; by default the worker is one "
            "process, so that stopping or killing it stops its tasks)",
        )

    def handle(self, *args, queue_name, batch, max_tasks, interval, worker_id, reload, **options):
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        queues = settings.TASK_QUEUES if queue_name == "*" else queue_name.split(",")
        if settings.TASKS_BACKEND == RQ_BACKEND:
            self._run_rq(queues, batch, max_tasks, worker_id, options["verbosity"])
            return
        if not isinstance(backend, DatabaseBackend):
            raise CommandError(
                f"HYGIE_TASKS_BACKEND is {type(backend).__module__}.{type(backend).__name__}: "
                "run that backend's own workers (see docs/operations.md)."
            )
        if "default" in queues:
            schedule_housekeeping()
            run_worker_startup()
        # db_worker reloads by default under DEBUG, in a child process: a supervisor killing
        # the worker would leave the child sending. One process unless asked otherwise.
        arguments = ["--queue-name", queue_name, "--interval", str(interval)]
        arguments.append("--reload" if reload and not batch else "--no-reload")
        if batch:
            arguments.append("--batch")
        if max_tasks:
            arguments += ["--max-tasks", str(max_tasks)]
        if worker_id:
            arguments += ["--worker-id", worker_id]
        call_command("db_worker", *arguments, verbosity=options["verbosity"])

    def _run_rq(self, queues, batch, max_tasks, worker_id, verbosity):
        # RQ's worker, with the job class that runs Django tasks and the scheduler that
        # honours run_after; housekeeping comes from a timer (`hygie housekeeping`).
        arguments = [*queues, "--job-class", "django_tasks_rq.Job", "--with-scheduler"]
        if batch:
            arguments.append("--burst")
        if max_tasks:
            arguments += ["--max-jobs", str(max_tasks)]
        if worker_id:
            arguments += ["--name", worker_id]
        call_command("rqworker", *arguments, verbosity=verbosity)
