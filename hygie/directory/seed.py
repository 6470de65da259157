"""Reference entries shipped with Hygie, created once by `migrate` (decision 0321).

Only public, stable facts. `last_verified_on` stays empty: nobody on this installation has
checked them yet, so every shipped entry shows "à vérifier" until a platform administrator
confirms it. A shipped entry an administrator deletes is not brought back by the next upgrade
(`SeededEntry` remembers it was created once).
"""

from __future__ import annotations

from django.db import transaction

from hygie.directory.models import Actor, ActorKind, Competence, SeededEntry

C = Competence

SEED: list[dict] = [
    {
        "key": "cert-sante",
        "name": "CERT Santé (ANS)",
        "kind": ActorKind.CERT_SANTE,
        "description": (
            "Cellule de l'Agence du numérique en santé qui aide les structures de santé à "
            "traiter leurs incidents de sécurité et publie des alertes sectorielles "
            "(CyberVeille Santé). Les incidents graves des établissements de santé lui sont "
            "signalés."
        ),
        "website": "https://www.cyberveille-sante.gouv.fr/",
        "competences": [C.INCIDENT_RESPONSE, C.REPORTING, C.WATCH],
    },
    {
        "key": "cert-fr-anssi",
        "name": "CERT-FR (ANSSI)",
        "kind": ActorKind.AUTHORITY,
        "description": (
            "Centre gouvernemental de veille, d'alerte et de réponse aux attaques "
            "informatiques, opéré par l'Agence nationale de la sécurité des systèmes "
            "d'information. Publie avis de sécurité et alertes."
        ),
        "website": "https://www.cert.ssi.gouv.fr/",
        "competences": [C.INCIDENT_RESPONSE, C.WATCH, C.REFERENCE],
    },
    {
        "key": "cybermalveillance",
        "name": "Cybermalveillance.gouv.fr",
        "kind": ActorKind.PUBLIC_SERVICE,
        "description": (
            "Dispositif national d'assistance aux victimes d'actes de cybermalveillance, de "
            "prévention et de sensibilisation ; oriente vers des prestataires de proximité."
        ),
        "website": "https://www.cybermalveillance.gouv.fr/",
        "competences": [C.VICTIM_SUPPORT, C.TRAINING],
    },
    {
        "key": "cnil",
        "name": "CNIL",
        "kind": ActorKind.AUTHORITY,
        "description": (
            "Commission nationale de l'informatique et des libertés : autorité de protection "
            "des données personnelles, destinataire des notifications de violation de données "
            "(72 heures au plus tard après en avoir pris connaissance, RGPD article 33)."
        ),
        "website": "https://www.cnil.fr/",
        "competences": [C.DATA_PROTECTION, C.REPORTING],
    },
    {
        "key": "ans",
        "name": "Agence du numérique en santé (ANS)",
        "kind": ActorKind.AUTHORITY,
        "description": (
            "Agence nationale du numérique en santé : publie la PGSSI-S (référentiels et "
            "guides de sécurité des systèmes d'information de santé) et opère le CERT Santé."
        ),
        "website": "https://esante.gouv.fr/",
        "competences": [C.REFERENCE, C.ADVICE],
    },
    # GRADeS: only the regional groupings whose name and region we are sure of.
    *[
        {
            "key": f"grades-{code}",
            "name": name,
            "kind": ActorKind.GRADES,
            "description": (
                "Groupement régional d'appui au développement de la e-santé : accompagne les "
                "structures de santé de la région dans leurs projets numériques, dont la "
                "sécurité des systèmes d'information."
            ),
            "region_codes": [code],
            "competences": [C.ADVICE],
        }
        for code, name in [
            ("11", "SESAN (GRADeS Île-de-France)"),
            ("84", "GCS SARA (GRADeS Auvergne-Rhône-Alpes)"),
            ("44", "Pulsy (GRADeS Grand Est)"),
            ("28", "Normand'e-santé (GRADeS Normandie)"),
        ]
    ],
    {
        "key": "guide-hygiene-anssi",
        "name": "Guide d'hygiène informatique (ANSSI)",
        "kind": ActorKind.GUIDE,
        "description": (
            "Les 42 mesures de l'ANSSI pour renforcer la sécurité d'un système d'information, "
            "en niveaux standard et renforcé."
        ),
        "website": "https://www.ssi.gouv.fr/guide/guide-dhygiene-informatique/",
        "competences": [C.REFERENCE],
    },
    {
        "key": "guide-exercice-crise-anssi",
        "name": "Organiser un exercice de gestion de crise cyber (ANSSI)",
        "kind": ActorKind.GUIDE,
        "description": (
            "Guide méthodologique de l'ANSSI, réalisé avec le Club de la continuité "
            "d'activité, pour concevoir, animer et tirer les leçons d'un exercice de crise "
            "d'origine cyber."
        ),
        "website": (
            "https://www.ssi.gouv.fr/entreprise/guide/organiser-un-exercice-de-gestion-de-crise-cyber/"
        ),
        "competences": [C.CRISIS, C.REFERENCE],
    },
    {
        "key": "guide-pgssi-s",
        "name": "PGSSI-S (ANS)",
        "kind": ActorKind.GUIDE,
        "description": (
            "Politique générale de sécurité des systèmes d'information de santé : référentiels "
            "d'exigences et guides de bonnes pratiques pour le secteur de la santé."
        ),
        "website": (
            "https://esante.gouv.fr/securite/"
            "politique-generale-de-securite-des-systemes-d-information-de-sante"
        ),
        "competences": [C.REFERENCE],
    },
]


def ensure_reference_entries() -> int:
    """Create the shipped entries never created before on this installation; their count."""
    from hygie.orgs.models import Kind, Organisation

    done = set(SeededEntry.objects.values_list("key", flat=True))
    regions = {
        org.code: org for org in Organisation.objects.filter(kind=Kind.REGION).only("pk", "code")
    }
    created = 0
    for entry in SEED:
        if entry["key"] in done:
            continue
        codes = entry.get("region_codes", [])
        if any(code not in regions for code in codes):
            continue  # the region tree is not there yet; the next migrate creates the entry
        fields = {k: v for k, v in entry.items() if k not in ("key", "region_codes")}
        with transaction.atomic():
            actor = Actor.objects.create(
                seed_key=entry["key"],
                **{**fields, "competences": [str(c) for c in fields.get("competences", [])]},
            )
            actor.regions.set([regions[code] for code in codes])
            SeededEntry.objects.create(key=entry["key"])
        created += 1
    return created
