"""Permission-matrix routes of the phishing app: sending profiles."""

from __future__ import annotations

from django.urls import reverse

from hygie.phishing.models import SendingProfile, Simulation
from tests.permission_matrix import (
    BAD_REQUEST,
    CREATED,
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    PERSONAS,
    REDIRECT,
    UNAUTHORIZED,
    Call,
    Route,
    hides,
    shows,
    then,
)

SECRET = "mot-de-passe-du-relais"


def profile_a(w) -> SendingProfile:
    if not hasattr(w, "profile_a"):
        w.profile_a = SendingProfile.objects.create(
            organisation=w.est_a1,
            name="Relais CHU A1",
            host="127.0.0.1",
            port=1,  # nothing listens: a test send fails fast, and is reported
            username="simulations",
            password=SECRET,
            from_address="informatique@chu-a.example",
            timeout=2,
        )
    return w.profile_a


def form(w):
    return {
        "name": "Relais GHT",
        "host": "smtp.ght-a.example",
        "port": 587,
        "security": "starttls",
        "username": "",
        "password": "",
        "from_address": "informatique@ght-a.example",
        "ca_certificate": "",
        "timeout": 20,
    }


ROUTES = [
    Route(
        "phishing:profiles",
        url=lambda w: (profile_a(w), reverse("phishing:profiles", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Relais CHU A1"]), hides(lambda w: [SECRET])),
                editor=OK.but(shows(lambda w: ["Relais CHU A1"]), hides(lambda w: [SECRET])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:profile_create",
        url=lambda w: reverse("phishing:profile_create", args=[w.ght_a.pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: SendingProfile.objects.filter(
                            name="Relais GHT", organisation=w.ght_a
                        ).exists(),
                        "created",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:profile_edit",
        url=lambda w: reverse("phishing:profile_edit", args=[profile_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(hides(lambda w: [SECRET])),
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=lambda w: {**form(w), "name": "Relais renommé"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: SendingProfile.objects.get(pk=w.profile_a.pk).password == SECRET,
                        "password kept",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:profile_test",
        url=lambda w: reverse("phishing:profile_test", args=[profile_a(w).pk]),
        calls=[
            Call(
                "post",
                data={"recipient": "rssi@chu-a.example"},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            SendingProfile.objects.get(pk=w.profile_a.pk).last_test_ok is False
                        ),
                        "outcome kept",
                    )
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
]


def recipient_token(w) -> str:
    """A recipient of GHT A's simulation (the public pages need only the token)."""
    from django.utils import timezone

    from hygie.phishing.models import Recipient, Simulation
    from hygie.phishing.tracking import new_token

    if not hasattr(w, "recipient_a"):
        simulation = Simulation.objects.create(
            organisation=w.est_a1, name="Simulation A1", sending_profile=profile_a(w)
        )
        w.recipient_a = Recipient.objects.create(
            simulation=simulation,
            email=w.staff_a1.email,
            staff=w.staff_a1,
            lure="resultats-laboratoire",
            token=new_token(),
            sent_at=timezone.now() - timezone.timedelta(hours=1),
        )
    return w.recipient_a.token


def _public(name, method="get", outcome=OK, why="", data=None):
    return Route(
        name,
        url=lambda w: reverse(name, args=[recipient_token(w)]),
        public=True,
        why=why or "reached by a simulation's recipient, who has no account; the token is the key",
        calls=[Call(method, data=data, **dict.fromkeys(PERSONAS, outcome))],
    )


ROUTES += [
    _public("phishing:open"),
    _public("phishing:landing"),
    _public("phishing:submit", "post", REDIRECT, data={"identifiant": "x"}),
    _public("phishing:teachable"),
    _public("phishing:report", "post", OK),
]


def simulation_a(w):
    """A draft campaign of CHU A1."""
    if not hasattr(w, "simulation_a"):
        w.simulation_a = Simulation.objects.create(
            organisation=w.est_a1,
            name="Campagne de printemps A1",
            sending_profile=profile_a(w),
            lures=["resultats-laboratoire"],
        )
    return w.simulation_a


def simulation_form(w):
    return {
        "name": "Campagne d'automne",
        "sending_profile": profile_a(w).pk,
        "lures": ["planning-gardes", "paie-mutuelle"],
        "assignment": "random",
        "business_start": "08:30",
        "business_end": "17:30",
        "business_days": ["0", "1", "2", "3", "4"],
        "rate_per_minute": 30,
        "observe_days": 7,
    }


def _status_is(status):
    return then(lambda w: Simulation.objects.get(pk=w.simulation_a.pk).status == status, status)


ROUTES += [
    Route(
        "phishing:simulations",
        url=lambda w: (simulation_a(w), reverse("phishing:simulations", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Campagne de printemps A1"])),
                editor=OK.but(shows(lambda w: ["Campagne de printemps A1"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:simulation_create",
        url=lambda w: reverse("phishing:simulation_create", args=[w.est_a1.pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=simulation_form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Simulation.objects.filter(
                            name="Campagne d'automne", organisation=w.est_a1
                        ).exists(),
                        "created",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:simulation",
        url=lambda w: reverse("phishing:simulation", args=[simulation_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Campagne de printemps A1"])),
                editor=OK.but(shows(lambda w: ["Lancer la campagne"])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:simulation_edit",
        url=lambda w: reverse("phishing:simulation_edit", args=[simulation_a(w).pk]),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data=simulation_form,
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: (
                            Simulation.objects.get(pk=w.simulation_a.pk).name
                            == "Campagne d'automne"
                        ),
                        "renamed",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:simulation_action",
        url=lambda w: reverse("phishing:simulation_action", args=[simulation_a(w).pk, "annuler"]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(_status_is("cancelled")),
                analyst=NOT_FOUND,
            )
        ],
    ),
]


# Custom lures, target lists and the GoPhish import ----------------------------------------------
def custom_lure_a(w):
    from hygie.phishing.models import CustomLure

    if not hasattr(w, "custom_lure_a"):
        w.custom_lure_a = CustomLure.objects.create(
            organisation=w.est_a1,
            name="Leurre maison A1",
            sender_name="Informatique",
            subject="{{prenom}}, votre session",
            text="Reconnectez-vous : {{lien}}",
            landing_title="Connexion",
            landing_fields=[{"name": "identifiant", "label": "Identifiant", "type": "text"}],
            teachable_title="Exercice",
            teachable_body="Regardez l'adresse du lien.",
        )
    return w.custom_lure_a


def target_list_a(w):
    from hygie.phishing.models import TargetList

    if not hasattr(w, "target_list_a"):
        w.target_list_a = TargetList.objects.create(organisation=w.est_a1, name="Liste A1")
        w.target_list_a.members.add(w.staff_a1)
    return w.target_list_a


def _lure_post(w):
    return {
        "name": "Leurre GHT",
        "sender_name": "GHT",
        "sender_local_part": "ght",
        "subject": "Objet",
        "text": "{{lien}}",
        "html": "",
        "landing_title": "Connexion",
        "landing_intro": "",
        "landing_button": "OK",
        "teachable_title": "Exercice",
        "teachable_body": "Texte",
        "champ-TOTAL_FORMS": "1",
        "champ-INITIAL_FORMS": "0",
        "champ-0-name": "identifiant",
        "champ-0-label": "Identifiant",
        "champ-0-type": "text",
        "signe-TOTAL_FORMS": "0",
        "signe-INITIAL_FORMS": "0",
    }


def _exists(model_name, **lookup):
    def check(w):
        from hygie.phishing import models

        return getattr(models, model_name).objects.filter(**lookup).exists()

    return check


_READ = {
    "anonymous": LOGIN,
    "outsider": NOT_FOUND,
    "reader": OK,
    "editor": OK,
    "analyst": NOT_FOUND,
}
_WRITE_FORM = {
    "anonymous": LOGIN,
    "outsider": NOT_FOUND,
    "reader": FORBIDDEN,
    "editor": OK,
    "analyst": NOT_FOUND,
}

ROUTES += [
    Route(
        "phishing:custom_lures",
        url=lambda w: (custom_lure_a(w), reverse("phishing:custom_lures", args=[w.ght_a.pk]))[1],
        calls=[
            Call(
                "get",
                **{
                    **_READ,
                    "reader": OK.but(shows(lambda w: ["Leurre maison A1"])),
                    "editor": OK.but(shows(lambda w: ["Leurre maison A1"])),
                },
            )
        ],
    ),
    Route(
        "phishing:custom_create",
        url=lambda w: reverse("phishing:custom_create", args=[w.ght_a.pk]),
        calls=[
            Call("get", **_WRITE_FORM),
            Call(
                "post",
                data=_lure_post,
                **{
                    **_WRITE_FORM,
                    "editor": REDIRECT.but(
                        then(
                            lambda w: _exists("CustomLure", name="Leurre GHT")(w),
                            "created",
                        )
                    ),
                },
            ),
        ],
    ),
    Route(
        "phishing:custom_edit",
        url=lambda w: reverse("phishing:custom_edit", args=[custom_lure_a(w).pk]),
        calls=[
            Call("get", **_WRITE_FORM),
            Call(
                "post",
                data=lambda w: {**_lure_post(w), "name": "Leurre renommé"},
                **{
                    **_WRITE_FORM,
                    "editor": REDIRECT.but(
                        then(lambda w: _exists("CustomLure", name="Leurre renommé")(w), "saved")
                    ),
                },
            ),
        ],
    ),
    Route(
        "phishing:custom_preview",
        url=lambda w: reverse("phishing:custom_preview", args=[custom_lure_a(w).pk]),
        calls=[
            Call(
                "get",
                **{**_READ, "reader": OK.but(shows(lambda w: ["Camille, votre session"]))},
            )
        ],
    ),
    Route(
        "phishing:custom_delete",
        url=lambda w: reverse("phishing:custom_delete", args=[custom_lure_a(w).pk]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(lambda w: not _exists("CustomLure", name="Leurre maison A1")(w), "gone")
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:target_lists",
        url=lambda w: (target_list_a(w), reverse("phishing:target_lists", args=[w.ght_a.pk]))[1],
        calls=[Call("get", **{**_READ, "reader": OK.but(shows(lambda w: ["Liste A1"]))})],
    ),
    Route(
        "phishing:targetlist_create",
        url=lambda w: reverse("phishing:targetlist_create", args=[w.est_a1.pk]),
        calls=[
            Call("get", **_WRITE_FORM),
            Call(
                "post",
                data={"name": "Tout le monde"},
                **{
                    **_WRITE_FORM,
                    "editor": REDIRECT.but(
                        then(lambda w: _exists("TargetList", name="Tout le monde")(w), "created")
                    ),
                },
            ),
        ],
    ),
    Route(
        "phishing:targetlist_detail",
        url=lambda w: reverse("phishing:targetlist_detail", args=[target_list_a(w).pk]),
        calls=[
            Call(
                "get",
                **{**_READ, "reader": OK.but(shows(lambda w: [w.staff_a1.email]))},
            )
        ],
    ),
    Route(
        "phishing:targetlist_delete",
        url=lambda w: reverse("phishing:targetlist_delete", args=[target_list_a(w).pk]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(lambda w: not _exists("TargetList", name="Liste A1")(w), "gone")
                ),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "phishing:gophish_import",
        url=lambda w: reverse("phishing:gophish_import", args=[w.ght_a.pk]),
        calls=[
            Call("get", **_WRITE_FORM),
            Call(
                "post",
                data={"kind": "templates"},
                note="no file: the form answers with the missing field",
                **_WRITE_FORM,
            ),
        ],
    ),
]


# The GoPhish-compatible API (hygie/phishing/gophish_api.py), by session here; keys are tested
# with GoPhish's own client in tests/phishing/test_gophish_api.py ---------------------------------
def page_lure_a(w):
    from hygie.phishing.models import CustomLure

    if not hasattr(w, "page_lure_a"):
        w.page_lure_a = CustomLure.objects.create(
            organisation=w.est_a1,
            name="Page maison A1",
            sender_name="Informatique",
            landing_title="Connexion",
            landing_html='<form><input name="login"></form>',
            landing_fields=[{"name": "login", "label": "login", "type": "text"}],
            teachable_title="Exercice",
            teachable_body="Regardez l'adresse du lien.",
        )
    return w.page_lure_a


def _gophish(name, *args):
    return lambda w: reverse(f"gophish:{name}", args=[a(w) for a in args])


def _pk(builder):
    return lambda w: builder(w).pk


_API_READ = {
    "anonymous": UNAUTHORIZED,
    "outsider": OK,
    "reader": OK,
    "editor": OK,
    "analyst": OK,
}
_API_ITEM = {
    "anonymous": UNAUTHORIZED,
    "outsider": NOT_FOUND,
    "reader": OK,
    "editor": OK,
    "analyst": NOT_FOUND,
}


def _api_list(name, builder, shown):
    return Route(
        f"gophish:{name}",
        url=lambda w: (builder(w), reverse(f"gophish:{name}"))[1],
        api=True,
        calls=[
            Call(
                "get",
                **{
                    **_API_READ,
                    "outsider": OK.but(hides(lambda w: [shown])),
                    "analyst": OK.but(hides(lambda w: [shown])),
                    "reader": OK.but(shows(lambda w: [shown])),
                    "editor": OK.but(shows(lambda w: [shown])),
                },
            )
        ],
    )


def _api_write(data, editor, note="", outsider=BAD_REQUEST):
    """Another GHT's RSSI writes in their own GHT (never in GHT A): created, or refused."""
    return Call(
        "post",
        data=data,
        note=note,
        anonymous=UNAUTHORIZED,
        outsider=outsider,
        reader=FORBIDDEN,
        editor=editor,
        analyst=FORBIDDEN,
    )


def _api_item_writes(name, builder, put_data, gone):
    url = _gophish(name, _pk(builder))
    return [
        Call("get", url=url, **_API_ITEM),
        Call(
            "put",
            url=url,
            data=put_data,
            anonymous=UNAUTHORIZED,
            outsider=NOT_FOUND,
            reader=FORBIDDEN,
            editor=OK,
            analyst=NOT_FOUND,
        ),
        Call(
            "delete",
            url=url,
            anonymous=UNAUTHORIZED,
            outsider=NOT_FOUND,
            reader=FORBIDDEN,
            editor=OK.but(then(gone, "deleted")),
            analyst=NOT_FOUND,
        ),
    ]


def _gone(model_name, attribute):
    def check(w):
        from hygie.phishing import models

        return not getattr(models, model_name).objects.filter(pk=getattr(w, attribute).pk).exists()

    return check


_TEMPLATE_BODY = {"name": "Modèle API", "subject": "Objet", "text": "{{.URL}}", "html": ""}
_PAGE_BODY = {"name": "Page API", "html": '<form><input name="login"></form>'}

ROUTES += [_api_list("campaigns", simulation_a, "Campagne de printemps A1")]
ROUTES[-1].calls.append(
    _api_write(
        {"name": ""},
        BAD_REQUEST.but(shows(lambda w: ["Nom de la campagne manquant"])),
        note="a full creation runs in test_gophish_api.py with GoPhish's client",
    )
)
ROUTES += [
    _api_list("campaigns_summary", simulation_a, "Campagne de printemps A1"),
    Route(
        "gophish:campaign",
        url=_gophish("campaign", _pk(simulation_a)),
        api=True,
        calls=[
            Call("get", **_API_ITEM),
            Call(
                "delete",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(then(_gone("Simulation", "simulation_a"), "deleted")),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "gophish:campaign_results",
        url=_gophish("campaign_results", _pk(simulation_a)),
        api=True,
        calls=[Call("get", **_API_ITEM)],
    ),
    Route(
        "gophish:campaign_summary",
        url=_gophish("campaign_summary", _pk(simulation_a)),
        api=True,
        calls=[Call("get", **_API_ITEM)],
    ),
    Route(
        "gophish:campaign_complete",
        url=_gophish("campaign_complete", _pk(simulation_a)),
        api=True,
        calls=[
            Call(
                "get",
                setup=lambda w: Simulation.objects.filter(pk=simulation_a(w).pk).update(
                    status="running"
                ),
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=OK.but(_status_is("completed")),
                analyst=NOT_FOUND,
            )
        ],
    ),
    _api_list("groups", target_list_a, "Liste A1"),
    _api_list("groups_summary", target_list_a, "Liste A1"),
    Route(
        "gophish:group",
        url=_gophish("group", _pk(target_list_a)),
        api=True,
        calls=_api_item_writes(
            "group",
            target_list_a,
            lambda w: {"name": "Liste A1", "targets": [{"email": w.staff_a1.email}]},
            _gone("TargetList", "target_list_a"),
        ),
    ),
    Route(
        "gophish:group_summary",
        url=_gophish("group_summary", _pk(target_list_a)),
        api=True,
        calls=[Call("get", **_API_ITEM)],
    ),
    _api_list("templates", custom_lure_a, "Leurre maison A1"),
    _api_list("pages", page_lure_a, "Page maison A1"),
    Route(
        "gophish:template",
        url=_gophish("template", _pk(custom_lure_a)),
        api=True,
        calls=_api_item_writes(
            "template",
            custom_lure_a,
            {**_TEMPLATE_BODY, "name": "Leurre maison A1"},
            _gone("CustomLure", "custom_lure_a"),
        ),
    ),
    Route(
        "gophish:page",
        url=_gophish("page", _pk(page_lure_a)),
        api=True,
        calls=_api_item_writes(
            "page",
            page_lure_a,
            {**_PAGE_BODY, "name": "Page maison A1"},
            _gone("CustomLure", "page_lure_a"),
        ),
    ),
    _api_list("smtp", profile_a, "Relais CHU A1"),
    Route(
        "gophish:smtp_item",
        url=_gophish("smtp_item", _pk(profile_a)),
        api=True,
        calls=[Call("get", **{**_API_ITEM, "editor": OK.but(hides(lambda w: [SECRET]))})],
    ),
]


def _add_post(name, data, editor, outsider=BAD_REQUEST):
    route = next(r for r in ROUTES if r.name == f"gophish:{name}")
    route.calls.append(_api_write(data, editor, outsider=outsider))


_add_post(
    "groups",
    lambda w: {"name": "Groupe API", "targets": [{"email": w.staff_a1.email}]},
    CREATED.but(then(lambda w: _exists("TargetList", name="Groupe API")(w), "created")),
)
_add_post(
    "templates",
    _TEMPLATE_BODY,
    CREATED.but(
        then(lambda w: _exists("CustomLure", name="Modèle API", organisation=w.ght_a)(w), "here")
    ),
    outsider=CREATED.but(
        then(
            lambda w: _exists("CustomLure", name="Modèle API", organisation=w.ght_b)(w), "in GHT B"
        )
    ),
)
_add_post(
    "pages",
    _PAGE_BODY,
    CREATED.but(
        then(lambda w: _exists("CustomLure", name="Page API", organisation=w.ght_a)(w), "here")
    ),
    outsider=CREATED.but(
        then(lambda w: _exists("CustomLure", name="Page API", organisation=w.ght_b)(w), "in GHT B")
    ),
)


# Results (hygie/phishing/results_views.py) ------------------------------------------------------
def results_simulation(w):
    """A completed campaign of CHU A1: six people of Urgences A1 named Durandal*, two clicked."""
    from tests.phishing.results_data import campaign, people

    if not hasattr(w, "results_simulation"):
        w.results_simulation = campaign(w.est_a1, "Campagne résultats A1")
        people(
            w.results_simulation,
            6,
            establishment=w.est_a1,
            site=w.site_a1,
            service=w.service_a1,
            clicked=2,
            reported=1,
            last_name="Durandal",
        )
    return w.results_simulation


def _revealed(w) -> bool:
    from hygie.core.models import AuditEvent

    return AuditEvent.objects.filter(
        action="phishing.results_reveal", target_id=str(w.results_simulation.pk)
    ).exists()


NAMES = lambda w: ["Durandal"]  # noqa: E731
_NOMINATIVE = {"anonymous": LOGIN, "outsider": NOT_FOUND, "analyst": NOT_FOUND}

ROUTES += [
    Route(
        "phishing:results",
        url=lambda w: reverse("phishing:results", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=OK.but(shows(lambda w: ["Urgences A1"]), hides(NAMES)),
                editor=OK.but(shows(lambda w: ["Urgences A1"]), hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_csv",
        url=lambda w: reverse("phishing:results_csv", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=OK.but(shows(lambda w: ["Urgences A1"]), hides(NAMES)),
                editor=OK.but(hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_people",
        url=lambda w: reverse("phishing:results_people", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=FORBIDDEN,
                editor=OK.but(shows(lambda w: ["Personne "]), hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_reveal",
        url=lambda w: reverse("phishing:results_reveal", args=[results_simulation(w).pk]),
        calls=[
            Call(
                "post",
                data={"reason": "Proposer une formation au service des urgences"},
                **_NOMINATIVE,
                reader=FORBIDDEN,
                editor=REDIRECT.but(then(_revealed, "the reveal is journalled")),
            )
        ],
    ),
    Route(
        "phishing:results_trends",
        url=lambda w: (
            results_simulation(w),
            reverse("phishing:results_trends", args=[w.est_a1.pk]),
        )[1],
        calls=[
            Call(
                "get",
                **_NOMINATIVE,
                reader=OK.but(shows(lambda w: ["Campagne résultats A1"]), hides(NAMES)),
                editor=OK.but(shows(lambda w: ["Campagne résultats A1"]), hides(NAMES)),
            )
        ],
    ),
    Route(
        "phishing:results_overview",
        url=lambda w: (
            results_simulation(w),
            reverse("phishing:results_overview", args=[w.region_a.pk]),
        )[1],
        why="aggregate figures of a region: its analysts only",
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=OK.but(hides(lambda w: ["Durandal", "CHU A1", "Urgences A1"])),
            )
        ],
    ),
    Route(
        "phishing:transparency",
        url=lambda w: reverse("phishing:transparency", args=[w.est_a1.pk]),
        public=True,
        why="staff read what simulations collect without an account",
        calls=[Call("get", **dict.fromkeys(PERSONAS, OK.but(shows(lambda w: ["CHU A1"]))))],
    ),
]


# Corrective rules (hygie/phishing/views.py) -----------------------------------------------------
def rule_a(w):
    from hygie.phishing.models import CorrectiveRule

    if not hasattr(w, "rule_a"):
        w.rule_a = CorrectiveRule.objects.create(
            organisation=w.est_a1,
            name="Services qui cliquent",
            trigger="service_clicks",
            threshold=25,
            remedy="action_item",
        )
    return w.rule_a


def _rule_gone(w) -> bool:
    from hygie.phishing.models import CorrectiveRule

    return not CorrectiveRule.objects.filter(pk=w.rule_a.pk).exists()


ROUTES += [
    Route(
        "phishing:corrective_rules",
        url=lambda w: (rule_a(w), reverse("phishing:corrective_rules", args=[w.est_a1.pk]))[1],
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: ["Services qui cliquent"])),
                editor=OK.but(shows(lambda w: ["Services qui cliquent"])),
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                data={
                    "name": "Signalements faibles",
                    "trigger": "service_reports",
                    "threshold": 20,
                    "remedy": "action_item",
                    "active": "on",
                },
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "phishing:corrective_rule_delete",
        url=lambda w: reverse("phishing:corrective_rule_delete", args=[rule_a(w).pk]),
        calls=[
            Call(
                "post",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(then(_rule_gone, "deleted")),
                analyst=NOT_FOUND,
            )
        ],
    ),
]
