"""`hygie pdp --bind 127.0.0.1:8300`: run the dedicated decision process."""

from django.core.management.base import BaseCommand, CommandError

from hygie.access.pdp import server


class Command(BaseCommand):
    help = "Point de décision Zero Trust dédié (réponses à nginx auth_request et Envoy ext_authz)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8300", help="adresse:port d'écoute")

    def handle(self, *args, bind, **options):
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--bind attend adresse:port, par exemple 127.0.0.1:8300")
        httpd = server.make_server(host.strip("[]"), int(port))
        self.stdout.write(f"hygie pdp: listening on {host}:{port}", ending="\n")
        self.stdout.flush()
        try:
            httpd.serve_forever(poll_interval=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
            from hygie.access.pdp import log

            log.flush()
