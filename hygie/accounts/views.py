from __future__ import annotations

import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hygie.accounts import invitations, services
from hygie.accounts import password_reset as password_reset_service
from hygie.accounts.forms import (
    ApiTokenForm,
    CodeForm,
    EnrolForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    SudoForm,
)
from hygie.accounts.middleware import SESSION_AUTH_AT, SESSION_MFA
from hygie.accounts.models import ApiToken, TotpDevice
from hygie.accounts.oidc import provider_logout_url
from hygie.core import throttle
from hygie.core.audit import record_event
from hygie.core.net import client_ip
from hygie.orgs.models import Organisation

PENDING_USER = "hygie_pending_user"
PENDING_BACKEND = "hygie_pending_backend"
PENDING_AT = "hygie_pending_at"
PENDING_NEXT = "hygie_pending_next"
PENDING_SECONDS = 300
LOGIN_IP_LIMIT = {"capacity": 30, "per_seconds": 600}
LOGIN_USER_LIMIT = {"capacity": 10, "per_seconds": 900}
SESSION_INVITATION = "hygie_invitation_link"
SESSION_RESET = "hygie_reset_link"
SESSION_LOGIN_HINT = "hygie_login_username"  # filled in on the login page after a new password


def _is_safe(request, candidate: str | None) -> bool:
    return bool(candidate) and url_has_allowed_host_and_scheme(
        candidate, {request.get_host()}, request.is_secure()
    )


def _safe_next(request, candidate: str | None) -> str:
    if _is_safe(request, candidate):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _complete_login(request, user, backend: str, *, second_factor: bool):
    next_url = request.session.get(PENDING_NEXT)
    login(request, user, backend=backend)  # rotates the session key
    request.session[SESSION_AUTH_AT] = time.time()
    request.session[SESSION_MFA] = second_factor
    return next_url


def _pending_user(request):
    """The user between the password step and the second factor, or a logged-in user lacking one."""
    if request.user.is_authenticated:
        return request.user
    user_id = request.session.get(PENDING_USER)
    if user_id is None or time.time() - request.session.get(PENDING_AT, 0) > PENDING_SECONDS:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _finish(request, user, *, second_factor: bool):
    backend = request.session.get(PENDING_BACKEND, "django.contrib.auth.backends.ModelBackend")
    if request.user.is_authenticated:
        # The session gains a privilege: give it a new key, as a login would.
        request.session.cycle_key()
        request.session[SESSION_MFA] = second_factor
        next_url = request.session.pop(PENDING_NEXT, None)
    else:
        next_url = _complete_login(request, user, backend, second_factor=second_factor)
    for key in (PENDING_USER, PENDING_BACKEND, PENDING_AT, PENDING_NEXT):
        request.session.pop(key, None)
    return _safe_next(request, next_url)


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(
        request.POST or None, initial={"username": request.session.pop(SESSION_LOGIN_HINT, "")}
    )
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        ip = client_ip(request)
        # Every attempt takes a token before the password is checked (so a guesser racing
        # in parallel cannot overshoot); a correct password gives it back, so the budget only
        # counts failures and a whole hospital behind one address is not locked out.
        if not throttle.allow("login-ip", ip, **LOGIN_IP_LIMIT) or not throttle.allow(
            "login-user", username.lower(), **LOGIN_USER_LIMIT
        ):
            record_event(
                "auth.login_throttled", request=request, details={"username": username[:150]}
            )
            form.add_error(None, _("Trop de tentatives. Réessayez dans quelques minutes."))
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                form.add_error(None, _("Identifiant ou mot de passe incorrect."))
            else:
                throttle.refund("login-ip", ip, capacity=LOGIN_IP_LIMIT["capacity"])
                throttle.refund(
                    "login-user", username.lower(), capacity=LOGIN_USER_LIMIT["capacity"]
                )
                request.session.cycle_key()
                request.session[PENDING_NEXT] = request.GET.get("next") or request.POST.get("next")
                request.session[PENDING_BACKEND] = user.backend
                if services.has_confirmed_totp(user) or services.requires_second_factor(user):
                    request.session[PENDING_USER] = user.pk
                    request.session[PENDING_AT] = time.time()
                    target = (
                        "accounts:login_code"
                        if services.has_confirmed_totp(user)
                        else "accounts:enrol"
                    )
                    return redirect(target)
                return HttpResponseRedirect(_finish(request, user, second_factor=False))
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "next": request.GET.get("next", ""),
            "expired": request.GET.get("expired"),
            "oidc_enabled": settings.OIDC_ENABLED,
            "oidc_name": settings.OIDC_PROVIDER_NAME,
        },
    )


@require_http_methods(["GET", "POST"])
def login_code(request):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return redirect("accounts:enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if not throttle.allow("totp", str(user.pk), capacity=5, per_seconds=300):
            record_event("auth.totp_throttled", request=request, actor=user, target=user)
            form.add_error(None, _("Trop de codes erronés. Réessayez dans quelques minutes."))
        elif services.verify_totp(device, code):
            return redirect(_finish(request, user, second_factor=True))
        elif services.use_recovery_code(user, code):
            record_event(
                "auth.recovery_code_used",
                request=request,
                actor=user,
                target=user,
                details={"remaining": services.remaining_recovery_codes(user)},
            )
            messages.warning(
                request,
                _("Code de secours utilisé. Il vous en reste %(n)d.")
                % {"n": services.remaining_recovery_codes(user)},
            )
            return redirect(_finish(request, user, second_factor=True))
        else:
            record_event("auth.totp_failed", request=request, actor=user, target=user)
            form.add_error("code", _("Code incorrect ou expiré."))
    return render(
        request,
        "accounts/login_code.html",
        {"form": form, "pending_user": user, "demo_code": _demo_code(device)},
    )


def _demo_code(device: TotpDevice) -> str | None:
    """`hygie demo` shows the current code of demo accounts, so evaluators need no phone."""
    if not settings.DEMO:
        return None
    from hygie.orgs.demo import DEMO_TOTP_SECRET

    if device.secret != DEMO_TOTP_SECRET:
        return None
    import pyotp

    return pyotp.TOTP(device.secret).now()


@require_http_methods(["GET", "POST"])
def enrol(request):
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if services.has_confirmed_totp(user) and not request.user.is_authenticated:
        return redirect("accounts:login_code")
    if services.has_confirmed_totp(user):
        return redirect("accounts:account")
    form = EnrolForm(request.POST or None)
    if request.method == "POST":
        device = TotpDevice.objects.filter(user=user).first()
        if device is None:
            return redirect("accounts:enrol")
        if form.is_valid():
            if not throttle.allow("totp", str(user.pk), capacity=5, per_seconds=300):
                form.add_error(None, _("Trop de codes erronés. Réessayez dans quelques minutes."))
            else:
                codes = services.confirm_enrolment(device, form.cleaned_data["code"])
                if codes is None:
                    form.add_error(
                        "code",
                        _("Code incorrect : vérifiez l'heure de votre téléphone et réessayez."),
                    )
                else:
                    record_event("auth.totp_enrolled", request=request, actor=user, target=user)
                    next_url = _finish(request, user, second_factor=True)
                    return render(
                        request,
                        "accounts/recovery_codes.html",
                        {"codes": codes, "next_url": next_url},
                    )
    else:
        device = services.start_enrolment(user)
    uri = services.provisioning_uri(device)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr": services.qr_svg_data_uri(uri),
            "secret": device.secret,
            "pending_user": user,
        },
    )


@require_POST
def logout_view(request):
    provider_logout = provider_logout_url(request)  # read before the session is flushed
    logout(request)
    return redirect(provider_logout or "accounts:login")


def sudo_redirect(request):
    """Send to the re-authentication page, then back where the user was.

    A form posted to a POST-only URL cannot be replayed by a redirect: the user comes back
    to the page the form was on (the referring page, when it is ours) and submits it again.
    """
    if request.method == "GET":
        back = request.get_full_path()
    else:
        referer = request.headers.get("Referer", "")
        back = referer if _is_safe(request, referer) else reverse(settings.LOGIN_REDIRECT_URL)
    return redirect(f"{reverse('accounts:sudo')}?{urlencode({'next': back})}")


def sudo_required(view):
    """Sensitive actions ask for the password (or a TOTP code) again.

    Views acting on an object check visibility first and call `sudo_redirect` themselves,
    so nobody is asked for a password before learning the object is not theirs (404).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not services.in_sudo_mode(request):
            return sudo_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


@login_required
@require_http_methods(["GET", "POST"])
def sudo(request):
    form = SudoForm(request.POST or None)
    next_url = request.GET.get("next") or request.POST.get("next")
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data["secret"]
        user = request.user
        device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
        if not throttle.allow("sudo", str(user.pk), capacity=5, per_seconds=300):
            form.add_error(None, _("Trop de tentatives. Réessayez dans quelques minutes."))
        elif (user.has_usable_password() and user.check_password(secret)) or (
            device and services.verify_totp(device, secret)
        ):
            services.grant_sudo(request)
            record_event("auth.sudo", request=request, target=user)
            return redirect(_safe_next(request, next_url))
        else:
            record_event("auth.sudo_failed", request=request, target=user)
            form.add_error("secret", _("Mot de passe ou code incorrect."))
    return render(request, "accounts/sudo.html", {"form": form, "next": next_url or ""})


@login_required
def account(request):
    user = request.user
    return render(
        request,
        "accounts/account.html",
        {
            "has_totp": services.has_confirmed_totp(user),
            "recovery_left": services.remaining_recovery_codes(user),
            "tokens": ApiToken.objects.filter(user=user),
            "memberships": user.memberships.select_related("organisation"),
        },
    )


@login_required
@sudo_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        request.user.set_password(form.cleaned_data["new_password"])
        request.user.save(update_fields=["password"])
        from django.contrib.auth import update_session_auth_hash

        update_session_auth_hash(request, request.user)
        record_event("auth.password_changed", request=request, target=request.user)
        messages.success(request, _("Mot de passe modifié."))
        return redirect("accounts:account")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@sudo_required
@require_POST
def recovery_regenerate(request):
    if not services.has_confirmed_totp(request.user):
        return redirect("accounts:account")
    codes = services.regenerate_recovery_codes(request.user)
    record_event("auth.recovery_codes_regenerated", request=request, target=request.user)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next_url": reverse("accounts:account")},
    )


@login_required
@sudo_required
@require_http_methods(["GET", "POST"])
def token_create(request):
    organisations = Organisation.objects.visible_to(request.user, "aggregate")
    form = ApiTokenForm(organisations, request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = ApiToken.issue(
            request.user,
            form.cleaned_data["name"],
            form.cleaned_data["scope"],
            organisation=form.cleaned_data["organisation"],
            expires_at=timezone.now() + timedelta(days=form.cleaned_data["expires_in_days"]),
        )
        record_event(
            "api.token_created", request=request, target=token, details={"scope": token.scope}
        )
        return render(request, "accounts/token_created.html", {"token": token, "secret": secret})
    return render(request, "accounts/token_form.html", {"form": form})


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_visible_or_404_token(request.user, token_id)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_event("api.token_revoked", request=request, target=token)
    messages.success(request, _("Jeton révoqué."))
    return redirect("accounts:account")


def get_visible_or_404_token(user, token_id: int) -> ApiToken:
    # Tokens belong to a person, not to an organisation: only their owner sees them.
    token = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).first()
    if token is None:
        raise Http404
    return token


# Invitation and forgotten-password links ---------------------------------------------------
# The secret travels once in the URL from the e-mail; the page then keeps its keyed hash in the
# session and redirects to a URL without it, so it stays out of the history and Referer. Opening
# the link (GET) uses nothing: mail scanners that follow links cannot spend it.


def _someone_logged_in(request):
    """A link opened in a browser where a session is open (a shared workstation): the link is
    left untouched and the visitor asked to sign out first."""
    return render(request, "accounts/link_logged_in.html")


@require_http_methods(["GET"])
def invitation_accept(request, token: str):
    if request.user.is_authenticated:
        return _someone_logged_in(request)
    check = invitations.check_link(secret=token)
    if not check.valid:
        return _invitation_problem(request, check)
    request.session[SESSION_INVITATION] = check.invitation.token_hash
    return redirect("accounts:invitation_set_password")


def _invitation_problem(request, check):
    return render(
        request,
        "accounts/invitation_invalid.html",
        {"problem": check.problem, "invitation": check.invitation},
    )


@require_http_methods(["GET", "POST"])
def invitation_set_password(request):
    if request.user.is_authenticated:
        return _someone_logged_in(request)
    token_hash = request.session.get(SESSION_INVITATION)
    check = invitations.check_link(token_hash=token_hash)
    if not check.valid:
        request.session.pop(SESSION_INVITATION, None)
        return _invitation_problem(request, check)
    invitation = check.invitation
    form = PasswordChangeForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = invitations.accept(token_hash, form.cleaned_data["new_password"], request=request)
        request.session.pop(SESSION_INVITATION, None)
        if not check.valid:
            return _invitation_problem(request, check)
        return _to_login(
            request,
            invitation.user,
            _("Votre mot de passe est enregistré. Connectez-vous pour commencer."),
        )
    return render(
        request, "accounts/invitation_set_password.html", {"form": form, "invitation": invitation}
    )


def _to_login(request, user, message: str):
    request.session.cycle_key()
    request.session[SESSION_LOGIN_HINT] = user.get_username()
    messages.success(request, message)
    return redirect("accounts:login")


@require_http_methods(["GET", "POST"])
def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if password_reset_service.request_reset(form.cleaned_data["email"], request=request):
            return redirect("accounts:password_reset_done")
        form.add_error(None, _("Trop de demandes. Réessayez dans une heure."))
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_done(request):
    return render(
        request,
        "accounts/password_reset_done.html",
        {"minutes": int(password_reset_service.LIFETIME.total_seconds() // 60)},
    )


@require_http_methods(["GET"])
def password_reset_confirm(request, token: str):
    if request.user.is_authenticated:
        return _someone_logged_in(request)
    check = password_reset_service.check_link(secret=token)
    if not check.valid:
        return render(request, "accounts/password_reset_invalid.html")
    request.session[SESSION_RESET] = check.reset.token_hash
    return redirect("accounts:password_reset_set")


@require_http_methods(["GET", "POST"])
def password_reset_set(request):
    if request.user.is_authenticated:
        return _someone_logged_in(request)
    token_hash = request.session.get(SESSION_RESET)
    check = password_reset_service.check_link(token_hash=token_hash)
    if not check.valid:
        request.session.pop(SESSION_RESET, None)
        return render(request, "accounts/password_reset_invalid.html")
    user = check.reset.user
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = password_reset_service.complete(
            token_hash, form.cleaned_data["new_password"], request=request
        )
        request.session.pop(SESSION_RESET, None)
        if not check.valid:
            return render(request, "accounts/password_reset_invalid.html")
        return _to_login(
            request,
            user,
            _("Mot de passe modifié. Toutes vos sessions ouvertes ont été fermées."),
        )
    return render(request, "accounts/password_reset_set.html", {"form": form, "reset_user": user})
