from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hygie.core.audit import record_event


class Command(BaseCommand):
    help = "Create a platform administrator (must enrol a second factor at first login)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args, username, email, password_stdin, **options):
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise CommandError(f"L'utilisateur « {username} » existe déjà.")
        password = input() if password_stdin else getpass.getpass("Mot de passe : ")
        user = user_model(username=username, email=email, is_superuser=True, is_staff=True)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Mot de passe refusé : " + " ".join(exc.messages)) from None
        user.set_password(password)
        user.save()
        record_event("auth.admin_created", actor=None, target=user, details={"via": "cli"})
        self.stdout.write(self.style.SUCCESS(f"Administrateur « {username} » créé."))
