from django.urls import path

from hygie.accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.login_code, name="login_code"),
    path("connexion/double-authentification/", views.enrol, name="enrol"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("connexion/mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path(
        "connexion/mot-de-passe-oublie/envoye/",
        views.password_reset_done,
        name="password_reset_done",
    ),
    path(
        "connexion/reinitialiser/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("connexion/nouveau-mot-de-passe/", views.password_reset_set, name="password_reset_set"),
    path("connexion/invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path(
        "connexion/activer-mon-compte/",
        views.invitation_set_password,
        name="invitation_set_password",
    ),
    path("compte/", views.account, name="account"),
    path("compte/confirmer/", views.sudo, name="sudo"),
    path("compte/mot-de-passe/", views.password_change, name="password_change"),
    path("compte/codes-de-secours/", views.recovery_regenerate, name="recovery_regenerate"),
    path("compte/jetons/nouveau/", views.token_create, name="token_create"),
    path("compte/jetons/<int:token_id>/revoquer/", views.token_revoke, name="token_revoke"),
]
