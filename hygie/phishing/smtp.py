"""Talking to a sending profile's SMTP relay, with errors a person can act on."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from django.utils.translation import gettext as _

from hygie.core.net import verified_tls_context
from hygie.phishing.models import Security, SendingProfile


class SmtpProblem(Exception):
    """A failure explained in French; `temporary` for what a later retry may fix (4xx, network)."""

    def __init__(self, message: str, *, temporary: bool):
        super().__init__(message)
        self.temporary = temporary


def tls_context(profile: SendingProfile) -> ssl.SSLContext:
    try:
        return verified_tls_context(profile.ca_certificate)
    except ValueError:
        raise SmtpProblem(
            _("Le certificat d'autorité fourni n'est pas un certificat PEM lisible."),
            temporary=False,
        ) from None


def connect(profile: SendingProfile) -> smtplib.SMTP:
    """An authenticated connection to the relay, TLS checked; SmtpProblem otherwise."""
    try:
        if profile.security == Security.TLS:
            server = smtplib.SMTP_SSL(
                profile.host, profile.port, timeout=profile.timeout, context=tls_context(profile)
            )
        else:
            server = smtplib.SMTP(profile.host, profile.port, timeout=profile.timeout)
            if profile.security == Security.STARTTLS:
                server.starttls(context=tls_context(profile))
        if profile.username:
            server.login(profile.username, profile.password)
        return server
    except smtplib.SMTPAuthenticationError:
        raise SmtpProblem(
            _(
                "Authentification refusée par le serveur : vérifiez l'identifiant et le mot de passe."
            ),
            temporary=False,
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise SmtpProblem(
            _(
                "Le serveur ne propose pas STARTTLS ou l'authentification : vérifiez le port et le chiffrement."
            ),
            temporary=False,
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise SmtpProblem(
            _(
                "Certificat du serveur refusé (%(reason)s) : fournissez le certificat de l'autorité interne."
            )
            % {"reason": exc.verify_message or exc.reason},
            temporary=False,
        ) from None
    except ssl.SSLError as exc:
        raise SmtpProblem(
            _("Échec de la négociation TLS (%(reason)s).") % {"reason": exc.reason}, temporary=False
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise classify(exc.smtp_code, exc.smtp_error) from None
    except TimeoutError:
        raise SmtpProblem(_("Le serveur ne répond pas (délai dépassé)."), temporary=True) from None
    except OSError as exc:
        raise SmtpProblem(
            _("Connexion impossible à %(host)s:%(port)s (%(reason)s).")
            % {"host": profile.host, "port": profile.port, "reason": exc.strerror or exc},
            temporary=True,
        ) from None


def classify(code: int, text: bytes | str) -> SmtpProblem:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    temporary = 400 <= code < 500
    return SmtpProblem(
        _("Le serveur a répondu %(code)s : %(text)s") % {"code": code, "text": text[:200]},
        temporary=temporary,
    )


@dataclass
class TestOutcome:
    ok: bool
    message: str


def send_test(profile: SendingProfile, recipient: str) -> TestOutcome:
    """Send a plain test message through the profile; the outcome is kept on the profile."""
    from django.utils import timezone

    message = EmailMessage()
    message["From"] = profile.from_address
    message["To"] = recipient
    message["Subject"] = _("Hygie : test du profil d'envoi « %(name)s »") % {"name": profile.name}
    message.set_content(
        _(
            "Ce message vérifie que Hygie peut envoyer par ce relais. Il ne fait partie d'aucune "
            "simulation."
        )
    )
    try:
        server = connect(profile)
        try:
            server.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise classify(code, text) from None
        except smtplib.SMTPResponseException as exc:
            raise classify(exc.smtp_code, exc.smtp_error) from None
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                pass
    except SmtpProblem as problem:
        outcome = TestOutcome(False, str(problem))
    else:
        outcome = TestOutcome(
            True, _("Message de test remis au serveur pour %(to)s.") % {"to": recipient}
        )
    SendingProfile.objects.filter(pk=profile.pk).update(
        last_test_at=timezone.now(),
        last_test_ok=outcome.ok,
        last_test_message=outcome.message[:500],
    )
    return outcome
