"""The crisis binder: sections, generated parts, PDF and self-contained offline HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from hygie.actions.models import ActionItem
from hygie.crisis import binder
from hygie.crisis.models import BinderKind, BinderSection
from hygie.directory.models import Actor, ActorKind
from tests.clients import browser
from tests.crisis.report_data import pdf_text

pytestmark = pytest.mark.django_db


class References(HTMLParser):
    """Every tag and every attribute that could make a browser fetch or follow something."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "poster", "data", "style") or (
                name.startswith("on")
            ):
                self.refs.append((tag, name, value or ""))

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@pytest.fixture
def filled(world):
    """CHU A1's binder: a section with a Markdown link, contacts, people and actions."""
    binder.seed_default_sections(world.est_a1)
    BinderSection.objects.create(
        organisation=world.est_a1,
        kind=BinderKind.PROCEDURE,
        title="Signalement des incidents",
        body="Déclarer sur le [portail de signalement](https://signalement.example/) "
        "puis prévenir l'ARS.\n\n![logo](https://cdn.example/logo.png)\n\n<script>x()</script>",
        position=9,
    )
    csirt = Actor.objects.create(
        name="CSIRT Hauts-de-France", kind=ActorKind.REGIONAL_CSIRT, phone="03 20 00 00 00"
    )
    csirt.regions.set([world.region_a])
    grades_b = Actor.objects.create(name="GRADeS de la région B", kind=ActorKind.GRADES)
    grades_b.regions.set([world.region_b])
    Actor.objects.create(
        name="Prestataire PRIS de A1", kind=ActorKind.QUALIFIED_PROVIDER, owner=world.est_a1
    )
    Actor.objects.create(
        name="Prestataire PRIS de B1", kind=ActorKind.QUALIFIED_PROVIDER, owner=world.est_b1
    )
    ActionItem.objects.create(organisation=world.est_a1, title="Segmenter le réseau", priority="p1")
    ActionItem.objects.create(organisation=world.est_b1, title="Action secrète de B1")
    return world


IN_A1 = [
    "Annuaire de crise interne",
    "Rôles de la cellule de crise",
    "Déclenchement et premières heures",
    "Mode dégradé : liste de vérification",
    "Signalement des incidents",
    "CERT Santé (ANS)",
    "CSIRT Hauts-de-France",
    "Prestataire PRIS de A1",
    "Claire Dumont",
    "rssi-a@example.org",
    "Segmenter le réseau",
]
NOT_IN_A1 = ["GRADeS de la région B", "Prestataire PRIS de B1", "Action secrète de B1", "rssi-b"]


def test_the_offline_html_is_self_contained_and_complete(filled):
    w = filled
    response = browser(w.reader).get(reverse("crisis:binder_html", args=[w.est_a1.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "attachment;" in response["Content-Disposition"]
    assert ".html" in response["Content-Disposition"]
    html = response.content.decode()
    parser = References()
    parser.feed(html)
    # No script, no stylesheet link, no image, no frame; the only links are the table of contents.
    assert not parser.tags & {"script", "link", "img", "iframe", "object", "embed", "form"}
    assert parser.refs, "the table of contents should link to the sections"
    for tag, name, value in parser.refs:
        assert name == "href" and value.startswith("#"), f"<{tag} {name}={value!r}> leaves the file"
    css = "".join(parser.styles)
    assert "@media print" in css
    assert "url(" not in css and "@import" not in css
    # The Markdown link and image stay readable as text; the raw HTML is shown as text.
    assert "portail de signalement (https://signalement.example/)" in html
    assert "[logo]" in html and "cdn.example" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    for text in IN_A1:
        assert text in html, f"the binder should contain {text!r}"
    for text in NOT_IN_A1:
        assert text not in html, f"the binder leaks {text!r}"
    assert "analyste-a" not in html  # aggregate-only roles are not part of the cell


def test_the_pdf_names_every_section_contact_and_action(filled):
    w = filled
    response = browser(w.editor).get(reverse("crisis:binder_pdf", args=[w.est_a1.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    for expected in [*IN_A1, "Directeur de crise", "portail de signalement"]:
        assert expected in text, f"the PDF should name {expected!r}"
    for text_b in NOT_IN_A1:
        assert text_b not in text


def test_default_sections_are_offered_once(world):
    editor = browser(world.editor)
    page = editor.get(reverse("crisis:binder", args=[world.est_a1.pk])).content.decode()
    assert "Créer les sections modèles" in page
    seed = reverse("crisis:binder_seed", args=[world.est_a1.pk])
    assert "4 sections modèles ajoutées" in editor.post(seed, follow=True).content.decode()
    assert "déjà des sections" in editor.post(seed, follow=True).content.decode()
    kinds = list(
        BinderSection.objects.filter(organisation=world.est_a1).values_list("kind", flat=True)
    )
    assert kinds == ["contacts", "roles", "procedure", "degraded"]
    assert browser(world.reader).post(seed).status_code == 403


def test_sections_are_edited_in_pages(world):
    editor = browser(world.editor)
    create = reverse("crisis:binder_section_create", args=[world.est_a1.pk])
    bad = editor.post(create, {"kind": "procedure", "title": "", "body": "x", "position": 1})
    assert bad.status_code == 400
    assert "Ce champ est obligatoire" in bad.content.decode()
    assert not BinderSection.objects.exists()
    editor.post(
        create,
        {"kind": "degraded", "title": "Plan de la pharmacie", "body": "- Stock", "position": 2},
    )
    section = BinderSection.objects.get()
    edit = reverse("crisis:binder_section_edit", args=[world.est_a1.pk, section.pk])
    editor.post(
        edit, {"kind": "degraded", "title": "Pharmacie", "body": "- Stock papier", "position": 2}
    )
    section.refresh_from_db()
    assert (section.title, section.body) == ("Pharmacie", "- Stock papier")
    page = browser(world.reader).get(reverse("crisis:binder", args=[world.est_a1.pk]))
    assert "Pharmacie" in page.content.decode()
    assert browser(world.reader).post(edit, {"title": "x"}).status_code == 403
    delete = reverse("crisis:binder_section_delete", args=[world.est_a1.pk, section.pk])
    assert editor.post(delete).status_code == 302
    assert not BinderSection.objects.exists()


def test_another_organisation_binder_answers_404(world):
    section = BinderSection.objects.create(
        organisation=world.est_a1, kind="other", title="Secret A1", body="x"
    )
    own_b = BinderSection.objects.create(
        organisation=world.est_b1, kind="other", title="Section B1", body="x"
    )
    outsider = browser(world.outsider)
    for name in ("crisis:binder", "crisis:binder_pdf", "crisis:binder_html"):
        assert outsider.get(reverse(name, args=[world.est_a1.pk])).status_code == 404
    edit_a = reverse("crisis:binder_section_edit", args=[world.est_a1.pk, section.pk])
    assert outsider.get(edit_a).status_code == 404
    # GHT B's RSSI cannot reach A1's section through B1's binder either.
    through_b = reverse("crisis:binder_section_edit", args=[world.est_b1.pk, section.pk])
    assert outsider.get(through_b).status_code == 404
    delete = reverse("crisis:binder_section_delete", args=[world.est_b1.pk, section.pk])
    assert outsider.post(delete).status_code == 404
    assert BinderSection.objects.filter(pk=section.pk).exists()
    html = outsider.get(reverse("crisis:binder_html", args=[world.est_b1.pk])).content.decode()
    assert "Section B1" in html and "Secret A1" not in html
    assert (
        own_b.title
        in outsider.get(reverse("crisis:binder", args=[world.est_b1.pk])).content.decode()
    )
