"""Password rules after ANSSI: length over composition, common passwords refused."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from hygie.core.models import AuditEvent
from tests.accounts.second_factor import anonymous, submit_password
from tests.clients import browser
from tests.factories import PASSWORD


def refusal(password, user=None) -> str:
    with pytest.raises(ValidationError) as excinfo:
        password_validation.validate_password(password, user)
    return " ".join(excinfo.value.messages)


@pytest.mark.parametrize(
    "password",
    [
        "le chat de la voisine dort au soleil",
        "correct horse battery staple",
        "tartine beurre confiture",  # 24 lowercase letters and spaces: no composition rule
        "Vélo rouge, 3 roues !",
        "x" * 3 + "une phrase assez longue" + "y" * 3,
    ],
)
def test_long_passphrases_are_accepted(password):
    password_validation.validate_password(password)


def test_eleven_characters_are_too_short():
    assert "au moins 12 caractères" in refusal("k7#pZq2!mWx")
    password_validation.validate_password("k7#pZq2!mWx9")


def test_more_than_128_characters_are_refused():
    assert "128" in refusal("mot " * 40)


@pytest.mark.parametrize("password", ["password1234", "qwerty123456", "123456789012"])
def test_common_passwords_are_refused(password):
    refusal(password)


@pytest.mark.parametrize(
    ("password", "word"),
    [
        ("Motdepasse2024!", "motdepasse"),
        ("Azertyuiop123", "azertyuiop"),
        ("H0pit@l!!2025", "hopital"),
        ("Marseille13013", "marseille"),
        ("Password2024!!", "password"),
        ("SoleilSoleil12", "soleilsoleil"),
    ],
)
def test_a_common_word_dressed_with_digits_and_symbols_is_refused(password, word):
    message = refusal(password)
    assert f"« {word} »" in message and "phrase" in message


@pytest.mark.parametrize("password", ["aaaaaaaaaaaaaaa", "abababababababab", "abcdefghijklmn"])
def test_repetitive_passwords_are_refused(password):
    assert "répétitif" in refusal(password)


def test_a_password_close_to_the_username_is_refused(world):
    assert "trop semblable" in refusal("lecteur-a-lecteur-a", world.reader)


def test_changing_the_password_in_the_browser(world):
    client = browser(world.reader, sudo=True)
    url = reverse("accounts:password_change")
    response = client.post(url, {"new_password": "azerty2024!!", "confirm": "azerty2024!!"})
    assert response.status_code == 200
    assert "new_password" in response.context["form"].errors
    response = client.post(url, {"new_password": "une longue phrase", "confirm": "autre chose"})
    assert "Les deux saisies diffèrent" in response.content.decode()

    new = "les hirondelles reviennent en avril"
    response = client.post(url, {"new_password": new, "confirm": new})
    assert response["Location"] == reverse("accounts:account")
    # The session survives its own password change; the old password no longer opens anything.
    assert client.get(reverse("orgs:home")).status_code == 200
    assert "incorrect" in submit_password(anonymous(), "lecteur-a", PASSWORD).content.decode()
    assert submit_password(anonymous(), "lecteur-a", new)["Location"] == "/"
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=world.reader).exists()


def test_createadmin_applies_the_same_rules(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Motdepasse2024!\n"))
    with pytest.raises(CommandError, match="motdepasse"):
        call_command("createadmin", "admin", "--email", "a@example.org", "--password-stdin")
    monkeypatch.setattr("sys.stdin", io.StringIO("un phare au bout de la digue\n"))
    call_command("createadmin", "admin", "--email", "a@example.org", "--password-stdin")
    assert AuditEvent.objects.filter(action="auth.admin_created").exists()
