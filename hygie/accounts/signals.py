"""Security journal entries for authentication events."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from hygie.accounts.invitations import close_pending
from hygie.accounts.oidc import SESSION_OIDC
from hygie.core.audit import record_event


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    # After a second-factor step the user object is reloaded and has no `backend`; the
    # session always records the one that authenticated the user.
    method = getattr(user, "backend", "") or request.session.get(BACKEND_SESSION_KEY, "") or ""
    details = {"method": "oidc" if "oidc" in method.lower() else "password"}
    if details["method"] == "oidc":
        assertion = request.session.get(SESSION_OIDC) or {}
        if assertion.get("user") != user.pk:
            assertion = {}
        details.update({key: assertion.get(key) for key in ("iss", "amr", "acr")})
    record_event("auth.login", request=request, actor=user, target=user, details=details)
    # An invitee who signs in through single sign-on has no use for the invitation link.
    close_pending(user, request=request, method=details["method"])


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
