"""Shipped modules, version rules, withdrawn files, audiences and lures, the command."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from hygie.awareness import content
from hygie.awareness.content import (
    ContentError,
    audiences_for,
    builtin_files,
    import_module,
    load_builtin_modules,
    modules_for_lure,
    parse_module,
)
from hygie.awareness.models import Assignment, Module, ModuleOrigin
from hygie.orgs.models import JobFamily
from hygie.phishing.lures import library
from tests import factories
from tests.awareness.test_content_format import MINI

pytestmark = pytest.mark.django_db

SOURCE_DIR = content.CONTENT_DIR

SHIPPED = {
    "courriel-piege",
    "mots-de-passe",
    "cle-usb-trouvee",
    "appel-ingenierie-sociale",
    "donnees-sante-messagerie",
    "dpi-a-l-arret",
    "signaler-message-suspect",
    "comptes-a-privileges",
    "role-de-l-encadrement",
}


# ---------------------------------------------------------------- shipped modules


@pytest.mark.parametrize("path", builtin_files(), ids=lambda p: p.stem)
def test_each_shipped_module_is_complete(path):
    spec = parse_module(path.read_bytes(), path.name)
    assert spec.slug == path.stem
    assert spec.audiences and spec.summary and spec.duration_minutes <= 20
    kinds = [step["kind"] for step in spec.content["steps"]]
    assert "lesson" in kinds
    assert set(kinds) - {"lesson"}, "a module has practice, not only lessons"
    assert spec.pass_mark is not None and len(spec.content["quiz"]["questions"]) >= 4


def test_migrate_loaded_every_shipped_module_once():
    shipped = Module.objects.filter(origin=ModuleOrigin.BUILTIN, active=True)
    assert set(shipped.values_list("slug", flat=True)) == SHIPPED
    assert {outcome.action for outcome in load_builtin_modules()} == {"unchanged"}
    assert Module.objects.count() == len(SHIPPED)


def test_the_required_exercises_are_there():
    modules = {m.slug: m for m in Module.objects.all()}
    steps = {slug: [s["kind"] for s in m.content["steps"]] for slug, m in modules.items()}
    assert steps["courriel-piege"].count("spot_signs") == 2
    assert "passphrase" in steps["mots-de-passe"]
    for slug in ("cle-usb-trouvee", "appel-ingenierie-sociale", "dpi-a-l-arret"):
        assert "scenario" in steps[slug]
    assert modules["comptes-a-privileges"].audiences == ["admin_si", "biomedical_technique"]
    assert modules["role-de-l-encadrement"].audiences == ["encadrement"]


def test_every_simulation_lure_is_remedied_by_a_module():
    for lure in library():
        remedies = modules_for_lure(lure.slug)
        assert remedies.exists(), f"no module remedies the lure {lure.slug}"
    assert set(modules_for_lure("resultats-laboratoire").values_list("slug", flat=True)) >= {
        "courriel-piege",
        "signaler-message-suspect",
    }


def test_modules_for_lure_leaves_withdrawn_modules_out():
    Module.objects.filter(slug="signaler-message-suspect").update(active=False)
    assert "signaler-message-suspect" not in set(
        modules_for_lure("facture-fournisseur").values_list("slug", flat=True)
    )


# ---------------------------------------------------------------- versions


def test_an_imported_module_upgrades_only_with_a_higher_version():
    first = import_module(MINI.encode(), "essai.yaml")
    assert first.action == "created" and first.module.origin == ModuleOrigin.IMPORTED
    assert import_module(("# commentaire\n" + MINI).encode()).action == "unchanged"

    edited = MINI.replace("Leçon", "Leçon revue")
    with pytest.raises(ContentError) as caught:
        import_module(edited.encode(), "essai.yaml")
    assert "le contenu de « essai » a changé mais sa version est toujours 1" in str(caught.value)
    assert "Passez « version » à 2" in str(caught.value)
    assert Module.objects.get(slug="essai").content["steps"][0]["title"] == "Leçon"

    upgraded = import_module(edited.replace("version: 1", "version: 2").encode())
    assert upgraded.action == "upgraded"
    assert "de la version 1 à la version 2" in upgraded.message
    module = Module.objects.get(slug="essai")
    assert (module.version, module.content["steps"][0]["title"]) == (2, "Leçon revue")

    with pytest.raises(ContentError) as caught:
        import_module(MINI.encode(), "essai.yaml")
    assert "Une version inférieure ne remplace jamais une version supérieure" in str(caught.value)
    assert Module.objects.get(slug="essai").version == 2


def test_an_import_cannot_replace_a_shipped_module():
    text = MINI.replace("slug: essai", "slug: mots-de-passe").replace("version: 1", "version: 9")
    with pytest.raises(ContentError) as caught:
        import_module(text.encode(), "mots-de-passe.yaml")
    assert "module livré avec Hygie" in str(caught.value)
    assert Module.objects.get(slug="mots-de-passe").version == 1


@pytest.fixture
def shipped_dir(tmp_path, monkeypatch):
    """A copy of the shipped modules the test may edit, used as the content directory."""
    for path in builtin_files():
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(content, "CONTENT_DIR", tmp_path)
    return tmp_path


def test_a_shipped_file_edited_without_a_version_bump_is_refused_and_logged(shipped_dir, caplog):
    path = shipped_dir / "cle-usb-trouvee.yaml"
    path.write_text(path.read_text().replace("sur le parking", "sur le parvis"))
    outcomes = {o.slug: o for o in load_builtin_modules()}
    assert outcomes["cle-usb-trouvee"].action == "refused"
    assert "Passez « version » à 2" in outcomes["cle-usb-trouvee"].message
    assert "cle-usb-trouvee.yaml refused" in caplog.text
    assert "parvis" not in str(Module.objects.get(slug="cle-usb-trouvee").content)

    path.write_text(path.read_text().replace("version: 1", "version: 2"))
    assert {o.slug: o.action for o in load_builtin_modules()}["cle-usb-trouvee"] == "upgraded"
    assert "parvis" in str(Module.objects.get(slug="cle-usb-trouvee").content)


def test_a_lower_shipped_version_never_replaces_a_higher_one(shipped_dir):
    Module.objects.filter(slug="mots-de-passe").update(version=3)
    outcomes = {o.slug: o for o in load_builtin_modules()}
    assert outcomes["mots-de-passe"].action == "refused"
    assert Module.objects.get(slug="mots-de-passe").version == 3


def test_a_shipped_file_whose_slug_is_not_its_name_is_refused(shipped_dir):
    (shipped_dir / "cle-usb-trouvee.yaml").rename(shipped_dir / "cle-usb.yaml")
    outcomes = {o.slug: o for o in load_builtin_modules()}
    assert outcomes["cle-usb"].action == "refused"
    assert "doit être le nom du fichier" in outcomes["cle-usb"].message


def test_a_removed_file_withdraws_its_module_and_keeps_its_assignments(shipped_dir, world):
    module = Module.objects.get(slug="dpi-a-l-arret")
    assignment = Assignment.objects.create(
        module=module, staff=world.staff_a1, establishment=world.est_a1, module_version=1
    )
    imported = import_module(MINI.encode(), "essai.yaml").module
    (shipped_dir / "dpi-a-l-arret.yaml").unlink()
    outcomes = {o.slug: o.action for o in load_builtin_modules()}
    assert outcomes["dpi-a-l-arret"] == "deactivated"
    module.refresh_from_db()
    assert module.active is False
    assert Assignment.objects.get(pk=assignment.pk).module == module
    imported.refresh_from_db()
    assert imported.active is True  # an administrator's own module has no file to follow

    shutil.copy(SOURCE_DIR / "dpi-a-l-arret.yaml", shipped_dir)
    load_builtin_modules()
    module.refresh_from_db()
    assert module.active is True


# ---------------------------------------------------------------- audiences


@pytest.mark.parametrize(
    ("family", "title", "expected"),
    [
        (JobFamily.CARE, "Infirmière", {"soignant"}),
        (JobFamily.CARE, "Cadre de santé", {"soignant", "encadrement"}),
        (JobFamily.MEDICAL, "Praticien hospitalier", {"medecin"}),
        (JobFamily.MEDICAL, "Assistant spécialiste", {"medecin"}),
        (JobFamily.MEDICAL, "Chef de service", {"medecin", "encadrement"}),
        (JobFamily.ADMINISTRATIVE, "Secrétaire médicale", {"secretariat"}),
        (JobFamily.TECHNICAL, "Électricien", {"biomedical_technique"}),
        (JobFamily.IT, "Administrateur systèmes", {"admin_si"}),
        (JobFamily.IT, "Technicien informatique", {"admin_si"}),
        (JobFamily.IT, "Ingénieur biomédical", {"biomedical_technique"}),
        (JobFamily.DIRECTION, "Directrice des soins", {"encadrement"}),
        (JobFamily.SOCIO_EDUCATIONAL, "Assistante sociale", {"soignant"}),
        (JobFamily.OTHER, "", {"secretariat"}),
    ],
)
def test_audiences_follow_job_family_and_title(family, title, expected):
    assert audiences_for(SimpleNamespace(job_family=family, job_title=title)) == expected


def test_audiences_of_a_directory_entry(world):
    nurse_manager = factories.staff(world.est_a1, job_title="Cadre supérieur de santé")
    assert audiences_for(nurse_manager) == {"soignant", "encadrement"}


# ---------------------------------------------------------------- the command


def test_command_imports_lists_and_refuses_with_lines(tmp_path, capsys):
    good = tmp_path / "essai.yaml"
    good.write_text(MINI)
    call_command("awareness_modules", "import", str(good))
    assert "« Module d'essai » version 1 chargé." in capsys.readouterr().out

    bad = tmp_path / "casse.yaml"
    bad.write_text(
        MINI.replace("slug: essai", "slug: casse").replace("pass_mark: 50", "pass_mark: 500")
    )
    with pytest.raises(CommandError, match="1 fichier"):
        call_command("awareness_modules", "import", str(bad))
    err = capsys.readouterr().err
    assert "casse.yaml : refusé, rien n'a été importé." in err
    assert "ligne 8 : pass_mark : doit être un nombre entier entre 0 et 100." in err
    assert not Module.objects.filter(slug="casse").exists()

    call_command("awareness_modules", "list")
    listing = capsys.readouterr().out
    assert "essai\tv1\tproposé\tImporté par la plateforme" in listing
    assert "courriel-piege\tv1\tproposé\tLivré avec Hygie" in listing
