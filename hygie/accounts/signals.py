"""Security journal entries for authentication events."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from hygie.core.audit import record_event


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    method = getattr(user, "backend", "") or ""
    record_event(
        "auth.login",
        request=request,
        actor=user,
        target=user,
        details={"method": "oidc" if "oidc" in method.lower() else "password"},
    )


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event("auth.logout", request=request, actor=user, target=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # The attempted username is kept (it identifies the target), never the password.
    record_event(
        "auth.login_failed",
        request=request,
        details={"username": str(credentials.get("username", ""))[:150]},
    )
