from django.urls import path

from hygie.accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.login_code, name="login_code"),
    path("connexion/double-authentification/", views.enrol, name="enrol"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("compte/", views.account, name="account"),
    path("compte/confirmer/", views.sudo, name="sudo"),
    path("compte/mot-de-passe/", views.password_change, name="password_change"),
    path("compte/codes-de-secours/", views.recovery_regenerate, name="recovery_regenerate"),
    path("compte/jetons/nouveau/", views.token_create, name="token_create"),
    path("compte/jetons/<int:token_id>/revoquer/", views.token_revoke, name="token_revoke"),
]
