"""The interface is French by default and fully available in English.

UI strings are written in French in the code; `hygie/locale/en/LC_MESSAGES/django.po` is the
English catalogue, compiled to `django.mo` and committed (decision 0200).
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

import hygie
from tests.accounts.second_factor import anonymous, submit_password
from tests.clients import browser

PACKAGE = Path(hygie.__file__).resolve().parent
CATALOGUE = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")
UPDATE_HINT = (
    "update the catalogue: `hygie makemessages -l en`, translate the new entries in "
    f"{CATALOGUE.relative_to(PACKAGE.parent)}, then `hygie compilemessages` (README, Contributing)"
)


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    # A request in English leaves English active in this thread; later tests expect French.
    yield
    translation.deactivate()


# --- A small reader for gettext catalogues ------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file as gettext writes it (one blank line between entries)."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}}
        entry.update(flags=set(), obsolete=False)
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"], line = True, line[2:].strip()
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
                continue
            if not line or line.startswith(("#", "|")):
                continue  # translator, reference or previous-msgid comment
            if not line.startswith('"'):
                field, _, line = line.partition(" ")
                if field.startswith("msgstr"):
                    index = int(field[7:-1]) if field != "msgstr" else 0
                    entry["msgstr"][index] = ""
                else:
                    entry[field] = ""
            value = ast.literal_eval(line)  # a C-style quoted string
            if field.startswith("msgstr"):
                entry["msgstr"][index] += value
            else:
                entry[field] += value
        if entry["msgid"] is not None:
            entries.append(entry)
    return entries


def live_entries(path: Path) -> list[dict]:
    """Entries other than the header and the obsolete ones."""
    return [e for e in read_po(path) if e["msgid"] and not e["obsolete"]]


def key(entry: dict) -> str:
    return f"{entry['msgctxt']}\x04{entry['msgid']}" if entry["msgctxt"] else entry["msgid"]


PLACEHOLDER = re.compile(r"%\(\w+\)[sdfr]|\{\w+\}")


# --- The catalogue ------------------------------------------------------------------------------


def test_every_entry_of_the_english_catalogue_is_translated_and_none_is_fuzzy():
    entries = live_entries(CATALOGUE)
    assert len(entries) > 400
    header = read_po(CATALOGUE)[0]
    assert header["msgid"] == "" and "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"][0]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy entries in {CATALOGUE.name}: {fuzzy}"
    untranslated = [
        e["msgid"]
        for e in entries
        if not e["msgstr"]
        or not all(e["msgstr"].get(i, "").strip() for i in range(2 if e["msgid_plural"] else 1))
    ]
    assert not untranslated, f"untranslated entries in {CATALOGUE.name}: {untranslated}"


def test_translations_keep_every_placeholder():
    wrong = []
    for e in live_entries(CATALOGUE):
        sources = [e["msgid"], e["msgid_plural"]] if e["msgid_plural"] else [e["msgid"]]
        for index, source in enumerate(sources):
            if sorted(PLACEHOLDER.findall(source)) != sorted(
                PLACEHOLDER.findall(e["msgstr"].get(index, ""))
            ):
                wrong.append((source, e["msgstr"].get(index)))
    assert not wrong, f"placeholders differ between French and English: {wrong}"


def test_compiled_catalogue_matches_the_po_file():
    with COMPILED.open("rb") as fp:
        compiled = dict(gettext.GNUTranslations(fp)._catalog)
    compiled.pop("", None)  # the header
    expected = {}
    for e in live_entries(CATALOGUE):
        if e["msgid_plural"]:
            for index, text in e["msgstr"].items():
                expected[(key(e), index)] = text
        else:
            expected[key(e)] = e["msgstr"][0]
    stale = sorted(str(k) for k in expected.keys() ^ compiled.keys())
    changed = sorted(
        str(k) for k in expected.keys() & compiled.keys() if expected[k] != compiled[k]
    )
    assert not stale and not changed, (
        f"{COMPILED.name} is out of date with {CATALOGUE.name} (run `hygie compilemessages`): "
        f"{(stale + changed)[:10]}"
    )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_catalogue_holds_every_string_of_the_code_and_nothing_else(tmp_path, monkeypatch):
    """`makemessages` run on a copy of the package finds exactly the catalogue's entries."""
    copy = tmp_path / "hygie"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo"))
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["en"], verbosity=0)
    regenerated = {key(e) for e in live_entries(copy / "locale/en/LC_MESSAGES/django.po")}
    committed = {key(e) for e in live_entries(CATALOGUE)}
    missing, unused = sorted(regenerated - committed), sorted(committed - regenerated)
    assert not missing, f"strings missing from the English catalogue: {missing}; {UPDATE_HINT}"
    assert not unused, f"catalogue entries no longer in the code: {unused}; {UPDATE_HINT}"


# --- What a user sees ---------------------------------------------------------------------------


LOGIN_FR = ["Connexion à Hygie", "Se connecter", "Identifiant", "Mot de passe", "Langue"]
LOGIN_EN = ["Sign in to Hygie", "Sign in", "Username", "Password", "Language"]


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_login_page_follows_the_browser_language(db):
    english = page(anonymous().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-GB,en"))
    assert '<html lang="en">' in english
    assert all(text in english for text in LOGIN_EN)
    assert not any(text in english for text in LOGIN_FR)

    french = page(anonymous().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr"))
    assert '<html lang="fr">' in french
    assert all(text in french for text in LOGIN_FR)
    assert "Sign in" not in french


def test_french_is_the_default_for_any_other_language(db):
    german = page(anonymous().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="de"))
    assert "Connexion à Hygie" in german


def test_language_switcher_turns_the_interface_to_english_and_back(db):
    client = anonymous()
    login = reverse("accounts:login")
    assert 'name="language"' in page(client.get(login))
    response = client.post(reverse("set_language"), {"language": "en", "next": login})
    assert response.status_code == 302 and response["Location"] == login
    assert "Sign in to Hygie" in page(client.get(login))
    client.post(reverse("set_language"), {"language": "fr", "next": login})
    assert "Connexion à Hygie" in page(client.get(login))


def test_a_refused_login_is_explained_in_english(world):
    client = anonymous()
    client.cookies["django_language"] = "en"
    response = submit_password(client, "lecteur-a", "not the right password")
    assert "Incorrect username or password." in page(response)
    assert "Identifiant ou mot de passe incorrect" not in response.content.decode()


def test_dashboard_in_english_has_no_french_left(world):
    client = browser(world.editor)
    english = page(client.get(reverse("orgs:home"), HTTP_ACCEPT_LANGUAGE="en", follow=True))
    for text in (
        "Dashboard",
        "Staff",
        "Roles",
        "Security log",
        "Sign out",
        "Establishments of the GHT",
        "staff on record",
        "Nursing and care",  # a job family: model choices are translated too
    ):
        assert text in english, text
    for text in (
        "Tableau de bord",
        "Personnels",
        "Journal de sécurité",
        "Se déconnecter",
        "personnels recensés",
        "Établissements du GHT",
        "Soignant",
        "Langue",
    ):
        assert text not in english, text

    french = page(client.get(reverse("orgs:home"), HTTP_ACCEPT_LANGUAGE="fr", follow=True))
    for text in ("Tableau de bord", "Personnels", "Journal de sécurité", "Se déconnecter"):
        assert text in french, text
    assert "Dashboard" not in french


def test_role_names_and_levels_are_translated(world, client_for):
    english = page(
        client_for(world.editor).get(
            reverse("accounts:account"), HTTP_ACCEPT_LANGUAGE="en", follow=True
        )
    )
    assert "CISO — GHT A" in english
    assert "RSSI" not in english
    assert "Two-factor authentication" in english


def test_unknown_page_answers_in_english(world, client_for):
    response = client_for(world.editor).get("/nulle-part/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Page introuvable" not in response.content.decode()


def test_api_errors_follow_the_requested_language(db):
    url = reverse("api:me")
    headers = {"HTTP_AUTHORIZATION": "Bearer hyg_not-a-real-token"}
    english = anonymous().get(url, HTTP_ACCEPT_LANGUAGE="en", **headers)
    assert english.status_code == 401
    assert english.json()["detail"] == "Invalid, expired or revoked token."
    french = anonymous().get(url, HTTP_ACCEPT_LANGUAGE="fr", **headers)
    assert french.json()["detail"] == "Jeton invalide, expiré ou révoqué."


def test_api_schema_follows_the_requested_language(world, client_for):
    client = client_for(world.editor)
    english = client.get(reverse("api:schema"), {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    schema = english.json()
    assert schema["info"]["description"].startswith("Hygie's REST API.")
    assert "Token created from “My account”" in str(schema["components"]["securitySchemes"])
    assert "Nom ou e-mail contient." not in english.content.decode()
    french = client.get(reverse("api:schema"), {"format": "json"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert french.json()["info"]["description"].startswith("API REST de Hygie.")
