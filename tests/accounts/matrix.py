"""Permission matrix entries for login, second factor, account, sudo mode and API tokens."""

from __future__ import annotations

from django.urls import reverse

from hygie.accounts.models import ApiToken
from tests.permission_matrix import LOGIN, NOT_FOUND, OK, REDIRECT, Call, Route, shows, then

EVERYONE_LOGGED_IN_OK = {"outsider": OK, "reader": OK, "editor": OK, "analyst": OK}
EVERYONE_LOGGED_IN_REDIRECTED = dict.fromkeys(EVERYONE_LOGGED_IN_OK, REDIRECT)


def url(name, *args):
    return lambda w: reverse(name, args=[arg(w) for arg in args])


def issue_editor_token(w):
    w.editor_token, _ = ApiToken.issue(w.editor, "intégration")


def editor_token_revoked(w):
    return ApiToken.objects.get(pk=w.editor_token.pk).revoked_at is not None


def token_limited_to_ght_a(user_attr):
    return then(
        lambda w: ApiToken.objects.filter(
            user=getattr(w, user_attr), organisation=w.ght_a
        ).exists(),
        "the token should be created, limited to GHT A",
    )


TOKEN_FORM = lambda w: {  # noqa: E731
    "name": "tableau de bord",
    "scope": "read",
    "organisation": w.ght_a.pk,
    "expires_in_days": 30,
}

ROUTES = [
    Route(
        "accounts:login",
        url=url("accounts:login"),
        public=True,
        why="the way in",
        calls=[
            Call("get", anonymous=OK, **EVERYONE_LOGGED_IN_REDIRECTED),
            Call(
                "post",
                data={"username": "rssi-a", "password": "not the password at all"},
                anonymous=OK.but(shows(lambda w: ["incorrect"])),
                **dict.fromkeys(EVERYONE_LOGGED_IN_OK, OK.but(shows(lambda w: ["incorrect"]))),
            ),
        ],
    ),
    Route(
        "accounts:login_code",
        url=url("accounts:login_code"),
        public=True,
        why="second step of the login; without a pending login it sends back to the first",
        # Logged-in personas have no authenticator yet: sent to enrolment.
        calls=[Call("get", anonymous=LOGIN, **EVERYONE_LOGGED_IN_REDIRECTED)],
    ),
    Route(
        "accounts:enrol",
        url=url("accounts:enrol"),
        public=True,
        why="reached between the password and the second factor, before being logged in",
        calls=[Call("get", anonymous=LOGIN, **EVERYONE_LOGGED_IN_OK)],
    ),
    Route(
        "accounts:logout",
        url=url("accounts:logout"),
        calls=[Call("post", anonymous=LOGIN, **dict.fromkeys(EVERYONE_LOGGED_IN_OK, LOGIN))],
    ),
    Route(
        "accounts:account",
        url=url("accounts:account"),
        calls=[Call("get", anonymous=LOGIN, **EVERYONE_LOGGED_IN_OK)],
    ),
    Route(
        "accounts:sudo",
        url=url("accounts:sudo"),
        calls=[Call("get", anonymous=LOGIN, **EVERYONE_LOGGED_IN_OK)],
    ),
    Route(
        "accounts:password_change",
        url=url("accounts:password_change"),
        calls=[Call("get", anonymous=LOGIN, **EVERYONE_LOGGED_IN_OK)],
    ),
    Route(
        "accounts:recovery_regenerate",
        url=url("accounts:recovery_regenerate"),
        # Without an authenticator there are no recovery codes: back to the account page.
        calls=[Call("post", anonymous=LOGIN, **EVERYONE_LOGGED_IN_REDIRECTED)],
    ),
    Route(
        "accounts:token_create",
        url=url("accounts:token_create"),
        calls=[
            Call("get", anonymous=LOGIN, **EVERYONE_LOGGED_IN_OK),
            Call(
                "post",
                data=TOKEN_FORM,
                note="a token may only be limited to an organisation its owner sees",
                anonymous=LOGIN,
                outsider=OK.but(
                    then(
                        lambda w: not ApiToken.objects.filter(user=w.outsider).exists(),
                        "a token limited to another GHT must not be created",
                    )
                ),
                reader=OK.but(token_limited_to_ght_a("reader")),
                editor=OK.but(token_limited_to_ght_a("editor")),
                analyst=OK.but(token_limited_to_ght_a("analyst")),
            ),
        ],
    ),
    Route(
        "accounts:token_revoke",
        url=lambda w: reverse("accounts:token_revoke", args=[w.editor_token.pk]),
        calls=[
            Call(
                "post",
                setup=issue_editor_token,
                note="a token belongs to its owner alone",
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(
                    then(lambda w: not editor_token_revoked(w), "revoked by someone else")
                ),
                reader=NOT_FOUND.but(
                    then(lambda w: not editor_token_revoked(w), "revoked by someone else")
                ),
                editor=REDIRECT.but(then(editor_token_revoked, "the token should be revoked")),
                analyst=NOT_FOUND,
            )
        ],
    ),
]

from tests.accounts.matrix_links import LINK_ROUTES  # noqa: E402

ROUTES += LINK_ROUTES
