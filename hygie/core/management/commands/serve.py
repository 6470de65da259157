from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Hygie's web interface with gunicorn (put nginx in front of it in production)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind", default="127.0.0.1:8000", help="address:port (default 127.0.0.1:8000)"
        )
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args, bind, workers, threads, **options):
        serve(bind=bind, workers=workers, threads=threads)


def serve(bind: str, workers: int = 2, threads: int = 4) -> None:
    from gunicorn.app.base import BaseApplication

    from hygie.wsgi import application

    if not settings.LOCAL and not (settings.STATIC_ROOT / "staticfiles.json").exists():
        raise CommandError(
            "Static files are not collected: run `hygie collectstatic --noinput` first."
        )

    class HygieServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("forwarded_allow_ips", "127.0.0.1")

        def load(self):
            return application

    HygieServer().run()
