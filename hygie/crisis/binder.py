"""The crisis binder: what the crisis cell needs when the information system is down.

Edited sections (Markdown) plus generated parts — crisis contacts from the directory, the
people holding a role, the latest action plan — exported as PDF and as one self-contained
HTML file opened from a USB key. Decisions: docs/decisions/0632-crisis-binder.md,
0633-offline-html-binder.md.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from xml.sax.saxutils import escape

from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from hygie.actions.models import ActionItem
from hygie.actions.services import plan_items
from hygie.core import markdown
from hygie.core.pdf import PdfKit
from hygie.crisis.models import BinderKind, BinderSection
from hygie.directory.models import Actor, ActorKind
from hygie.directory.services import filter_actors, region_of
from hygie.orgs.models import Kind, Membership, Organisation
from hygie.orgs.roles import Role

BINDER_KINDS = (Kind.ESTABLISHMENT, Kind.GHT)

# Reference directory entries a crisis cell calls (the others are guides, training bodies...).
CRISIS_ACTOR_KINDS = (
    ActorKind.CERT_SANTE,
    ActorKind.REGIONAL_CSIRT,
    ActorKind.GRADES,
    ActorKind.AUTHORITY,
    ActorKind.PUBLIC_SERVICE,
)
# An organisation's own entries (its contracted providers) of these kinds are listed too.
OWN_ACTOR_KINDS = (*CRISIS_ACTOR_KINDS, ActorKind.QUALIFIED_PROVIDER, ActorKind.EXPERT)
# Aggregate-only roles are not part of a crisis cell.
CELL_EXCLUDED_ROLES = (Role.REGIONAL_ANALYST, Role.NATIONAL_ANALYST)


# Default sections -------------------------------------------------------------------------------
DEFAULT_SECTIONS: list[tuple[str, str, str]] = [
    (
        BinderKind.CONTACTS,
        "Annuaire de crise interne",
        """Numéros à joindre **sans le système d'information** (téléphonie fixe ou mobile).

| Fonction | Nom | Téléphone | Suppléant |
| --- | --- | --- | --- |
| Directeur de garde | | | |
| Astreinte informatique | | | |
| Astreinte technique (bâtiment, énergie) | | | |
| Responsable de la sécurité des SI (RSSI) | | | |
| Délégué à la protection des données (DPO) | | | |
| Chargé de communication | | | |
| Standard de l'établissement | | | |

Contacts externes : prestataire d'infogérance, éditeur du dossier patient, opérateur
télécom, assureur cyber (numéro de contrat).
""",
    ),
    (
        BinderKind.ROLES,
        "Rôles de la cellule de crise",
        """- **Directeur de crise** : décide, arbitre, valide la communication ; déclenche le
  plan blanc numérique.
- **Coordinateur de la cellule** : anime les points de situation, suit les tâches et
  les échéances.
- **Responsable des systèmes d'information** : qualifie l'attaque, isole, pilote la
  remédiation avec les prestataires.
- **Référent médical** : évalue l'impact sur la prise en charge des patients, organise
  les transferts si besoin.
- **Responsable de la communication** : messages internes, presse, usagers.
- **Secrétaire de cellule** : tient la main courante (heure, fait, décision, auteur).
- **Logistique** : salle de crise, matériel de secours, repas, relèves.

Chaque rôle a un suppléant désigné. Les relèves se font avec un point de passation écrit.
""",
    ),
    (
        BinderKind.PROCEDURE,
        "Déclenchement et premières heures",
        """1. Tout agent qui constate une anomalie prévient l'astreinte informatique.
2. L'astreinte qualifie l'incident et alerte le directeur de garde et le RSSI.
3. Le directeur de garde réunit la cellule de crise (salle prévue, ou salle de repli).
4. **Isoler** les systèmes touchés : débrancher du réseau, ne pas éteindre les postes
   (les traces sont utiles à l'enquête).
5. Ouvrir la main courante sur papier si Hygie n'est pas joignable.
6. Signaler l'incident au CERT Santé (portail de signalement des incidents) et à l'ARS.
7. Si des données personnelles sont concernées : notification à la CNIL **dans les
   72 heures** après en avoir pris connaissance.
8. Déposer plainte et conserver les preuves.
""",
    ),
    (
        BinderKind.DEGRADED_MODE,
        "Mode dégradé : liste de vérification",
        """- [ ] Dossiers papier, formulaires de prescription et d'administration imprimés
  et disponibles dans chaque service.
- [ ] Liste des patients présents imprimée chaque jour (identité, lit, traitements).
- [ ] Procédure d'identification des patients sans le logiciel d'admission.
- [ ] Circuits papier avec le laboratoire, l'imagerie et la pharmacie.
- [ ] Postes de secours isolés du réseau, avec les documents utiles.
- [ ] Annuaire téléphonique imprimé (ce classeur).
- [ ] Modalités de retour à la normale : ressaisie des données papier, contrôle.
""",
    ),
]


def seed_default_sections(organisation: Organisation) -> int:
    """Create the template sections for a binder that has none yet; returns how many."""
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        if BinderSection.objects.filter(organisation=organisation).exists():
            return 0
        BinderSection.objects.bulk_create(
            [
                BinderSection(
                    organisation=organisation, kind=kind, title=title, body=body, position=n
                )
                for n, (kind, title, body) in enumerate(DEFAULT_SECTIONS, start=1)
            ]
        )
    return len(DEFAULT_SECTIONS)


# Generated parts --------------------------------------------------------------------------------
def crisis_contacts(organisation: Organisation) -> list[Actor]:
    """The directory's crisis actors serving the organisation's region (regional first, then
    national), followed by the own entries of the organisation and the nodes above it."""
    chain = [*organisation.ancestor_ids(), organisation.pk]
    reference = filter_actors(
        Actor.objects.filter(owner__isnull=True, kind__in=CRISIS_ACTOR_KINDS),
        region=region_of(organisation),
    )
    own = Actor.objects.filter(owner_id__in=chain, kind__in=OWN_ACTOR_KINDS).order_by("name")
    return [*reference, *own]


@dataclass
class CellMember:
    name: str
    email: str
    roles: list[str]
    where: str


def cell_members(organisation: Organisation) -> list[CellMember]:
    """People holding a role at the organisation or at the GHT/establishment above it."""
    chain = Organisation.objects.filter(
        Q(pk=organisation.pk)
        | Q(pk__in=organisation.ancestor_ids(), kind__in=(Kind.GHT, Kind.ESTABLISHMENT))
    )
    memberships = (
        Membership.objects.filter(organisation__in=chain, user__is_active=True)
        .exclude(role__in=CELL_EXCLUDED_ROLES)
        .select_related("user", "organisation")
        .order_by("user__last_name", "user__first_name", "user__username", "role")
    )
    people: dict[int, CellMember] = {}
    for membership in memberships:
        user = membership.user
        member = people.setdefault(
            user.pk,
            CellMember(
                name=user.get_full_name() or user.username,
                email=user.email,
                roles=[],
                where=membership.organisation.name,
            ),
        )
        member.roles.append(membership.get_role_display())
    return list(people.values())


def binder_actions(organisation: Organisation) -> list[ActionItem]:
    return list(plan_items(organisation).order_by("priority", "due_on", "pk"))


# Markdown without any outward reference ---------------------------------------------------------
def _link_open(self, tokens, idx, options, env):
    return ""


def _link_close(self, tokens, idx, options, env):
    # The address is printed after the text: readable on paper, nothing fetched or followed.
    opening = next(
        (t for t in reversed(tokens[:idx]) if t.type == "link_open"),
        None,
    )
    href = opening.attrGet("href") if opening is not None else ""
    return f" ({escape(href)})" if href else ""


def _image(self, tokens, idx, options, env):
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or [])
    return f"[{escape(alt or _('image'))}]"


@cache
def _markdown() -> MarkdownIt:
    md = markdown.parser()
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    return md


def render_markdown(text: str) -> str:
    """HTML without links or images: source HTML is shown as text, links become plain text."""
    return _markdown().render(text).strip()


def markdown_lines(text: str) -> list[tuple[str, str]]:
    """Block-level (style, plain text) pairs for the PDF: "heading", "item", "row", "text"."""
    tokens = _markdown().parse(text)
    lines: list[tuple[str, str]] = []
    depth = 0
    heading = False
    row: list[str] | None = None
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "heading_open":
            heading = True
        elif token.type == "heading_close":
            heading = False
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            lines.append(("row", " | ".join(row)))
            row = None
        elif token.type == "inline":
            plain = _plain(token)
            if row is not None:
                row.append(plain)
            elif heading:
                lines.append(("heading", plain))
            elif depth:
                lines.append(("item", "  " * (depth - 1) + "• " + plain))
            else:
                lines.append(("text", plain))
        elif token.type == "fence" or token.type == "code_block":
            lines.append(("text", token.content.rstrip()))
    return lines


def _plain(token) -> str:
    parts = []
    href = ""
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link_open":
            href = child.attrGet("href") or ""
        elif child.type == "link_close" and href:
            parts.append(f" ({href})")
            href = ""
    return "".join(parts)


# The binder -------------------------------------------------------------------------------------
@dataclass
class Binder:
    organisation: Organisation
    generated_at: object
    sections: list[BinderSection]
    contacts: list[Actor]
    members: list[CellMember]
    actions: list[ActionItem]
    region: Organisation | None = None
    notes: list[str] = field(default_factory=list)


def build_binder(organisation: Organisation) -> Binder:
    sections = list(BinderSection.objects.filter(organisation=organisation))
    for section in sections:
        section.html = mark_safe(render_markdown(section.body))  # noqa: S308 (html disabled)
    return Binder(
        organisation=organisation,
        generated_at=timezone.localtime(),
        sections=sections,
        contacts=crisis_contacts(organisation),
        members=cell_members(organisation),
        actions=binder_actions(organisation),
        region=region_of(organisation),
    )


def render_html(binder: Binder) -> str:
    """One self-contained HTML file: inline CSS, no script, no external reference."""
    return render_to_string("crisis/binder_export.html", {"binder": binder})


def render_pdf(binder: Binder) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak

    kit = PdfKit()
    styles, body, small = kit.styles, kit.body, kit.small
    item_style = body.clone("item", leftIndent=4 * mm)
    p, table = kit.p, kit.table
    organisation = binder.organisation
    buffer = io.BytesIO()
    doc = kit.document(buffer, title=_("Classeur de crise") + f" — {organisation.name}")

    story = [
        p(_("Classeur de crise"), styles["Title"]),
        p(organisation.name, styles["Heading1"]),
        p(
            _("Édité le %(when)s. À imprimer et à garder hors du système d'information.")
            % {"when": binder.generated_at.strftime("%d/%m/%Y %H:%M")}
        ),
    ]
    for section in binder.sections:
        story.append(p(section.title, styles["Heading2"]))
        for style, text in markdown_lines(section.body):
            if style == "heading":
                story.append(p(text, styles["Heading4"]))
            elif style == "item":
                story.append(p(text, item_style))
            elif style == "row":
                story.append(p(text, small))
            else:
                story.append(p(text))
    story += [PageBreak(), p(_("Contacts de crise (annuaire)"), styles["Heading2"])]
    if binder.contacts:
        story.append(
            table(
                [_("Acteur"), _("Type"), _("Téléphone"), _("Courriel"), _("Site web")],
                [
                    (a.name, a.get_kind_display(), a.phone, a.email, a.website)
                    for a in binder.contacts
                ],
                [48, 30, 28, 34, 34],
            )
        )
    else:
        story.append(p(_("Aucun contact de crise dans l'annuaire.")))
    story.append(p(_("Personnes ayant un rôle"), styles["Heading2"]))
    if binder.members:
        story.append(
            table(
                [_("Nom"), _("Rôles"), _("Courriel"), _("Rattachement")],
                [(m.name, ", ".join(m.roles), m.email, m.where) for m in binder.members],
                [45, 40, 50, 39],
            )
        )
    else:
        story.append(p(_("Aucune personne n'a de rôle.")))
    story.append(p(_("Plan d'action en cours"), styles["Heading2"]))
    if binder.actions:
        story.append(
            table(
                [_("Action"), _("Priorité"), _("Statut"), _("Échéance"), _("Responsable")],
                [
                    (
                        item.title,
                        item.get_priority_display(),
                        item.get_status_display(),
                        item.due_on.strftime("%d/%m/%Y") if item.due_on else "—",
                        (item.owner.get_full_name() or item.owner.username) if item.owner else "—",
                    )
                    for item in binder.actions
                ],
                [70, 26, 24, 22, 32],
            )
        )
    else:
        story.append(p(_("Le plan d'action est vide.")))
    doc.build(story)
    return buffer.getvalue()
