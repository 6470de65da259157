"""Permission matrix entries for the organisation tree, staff, roles, journal and their API."""

from __future__ import annotations

from django.urls import reverse

from hygie.core.audit import record_event
from hygie.core.models import AuditEvent
from hygie.orgs.models import Membership, Organisation, StaffMember
from hygie.orgs.roles import Role
from tests import factories
from tests.permission_matrix import (
    BAD_REQUEST,
    CREATED,
    FORBIDDEN,
    LOGIN,
    NO_CONTENT,
    NOT_FOUND,
    OK,
    REDIRECT,
    UNAUTHORIZED,
    Call,
    Route,
    hides,
    result_ids,
    shows,
    then,
)

# Names that must never reach the other GHT.
A_NAMES = lambda w: ["GHT A", "CHU A1", "CH A2", w.staff_a1.last_name]  # noqa: E731
B_NAMES = lambda w: ["GHT B", "CH B1", w.staff_b1.last_name]  # noqa: E731


def url(name, *args):
    return lambda w: reverse(name, args=[arg(w) for arg in args])


def ght_a(w):
    return w.ght_a.pk


def _membership(user, node):
    return Membership.objects.get(user=user, organisation=node).pk


def subtree_ids(node_name):
    return lambda w: Organisation.objects.subtree_of(getattr(w, node_name)).values_list(
        "pk", flat=True
    )


def role_granted(w):
    return Membership.objects.filter(user=w.nobody, organisation=w.ght_a).exists()


def reader_role_kept(w):
    return Membership.objects.filter(user=w.reader, organisation=w.ght_a).exists()


NEW_ESTABLISHMENT = {"kind": "establishment", "name": "CH A3", "category": "ch"}


def plant_events(w):
    record_event("test.event_of_ght_a", organisation=w.ght_a)
    record_event("test.event_of_ght_b", organisation=w.ght_b)


NEW_STAFF = lambda w: {  # noqa: E731
    "establishment": w.est_a1.pk,
    "first_name": "Lou",
    "last_name": "Nouvelle",
    "job_family": "soignant",
}
FULL_STAFF = lambda w: {**NEW_STAFF(w), "last_name": "Renommee", "service": w.service_a1.pk}  # noqa: E731


def staff_created(w):
    return StaffMember.objects.filter(last_name="Nouvelle").exists()


def staff_title(w):
    return StaffMember.objects.get(pk=w.staff_a1.pk).job_title


ROUTES = [
    # Pages ------------------------------------------------------------------------------------
    Route(
        "orgs:home",
        url=url("orgs:home"),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=OK.but(hides(A_NAMES)),
                reader=OK.but(hides(B_NAMES)),
                editor=OK.but(shows(lambda w: ["GHT A"]), hides(B_NAMES)),
                analyst=OK.but(hides(B_NAMES)),
            )
        ],
    ),
    Route(
        "orgs:switch",
        url=url("orgs:switch"),
        calls=[
            Call(
                "post",
                data=lambda w: {"organisation": w.est_a1.pk},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=REDIRECT,
                editor=REDIRECT,
                analyst=REDIRECT,
            )
        ],
    ),
    Route(
        "orgs:detail",
        url=url("orgs:detail", ght_a),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK.but(shows(lambda w: ["CHU A1"]), hides(B_NAMES)),
                analyst=OK,
            ),
            Call(
                "get",
                url=url("orgs:detail", lambda w: w.est_b1.pk),
                note="the other way round: GHT B's establishment",
                anonymous=LOGIN,
                outsider=OK,
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "orgs:create",
        url=url("orgs:create", ght_a),
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
                data=lambda w: {**NEW_ESTABLISHMENT, "finess_ej": factories.finess()},
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Organisation.objects.filter(name="CH A3", parent=w.ght_a),
                        "the establishment should be created under GHT A",
                    )
                ),
                analyst=NOT_FOUND.but(
                    then(
                        lambda w: not Organisation.objects.filter(name="CH A3").exists(),
                        "nothing may be created on a refused request",
                    )
                ),
            ),
        ],
    ),
    Route(
        "orgs:edit",
        url=url("orgs:edit", ght_a),
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
                data={"name": "GHT A renommé"},
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(
                    then(
                        lambda w: Organisation.objects.get(pk=w.ght_a.pk).name == "GHT A",
                        "a refused edit must change nothing",
                    )
                ),
                reader=FORBIDDEN,
                editor=REDIRECT.but(
                    then(
                        lambda w: Organisation.objects.get(pk=w.ght_a.pk).name == "GHT A renommé",
                        "the editor's change should be saved",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "orgs:staff",
        url=url("orgs:staff", ght_a),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: [w.staff_a1.last_name]), hides(B_NAMES)),
                editor=OK.but(shows(lambda w: [w.staff_a1.last_name]), hides(B_NAMES)),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "orgs:staff_export",
        url=url("orgs:staff_export", ght_a),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(shows(lambda w: [w.staff_a1.last_name]), hides(B_NAMES)),
                editor=OK.but(shows(lambda w: [w.staff_a1.last_name]), hides(B_NAMES)),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "orgs:members",
        url=url("orgs:members", ght_a),
        calls=[
            Call(
                "get",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=OK.but(
                    shows(lambda w: [w.editor.username]), hides(lambda w: [w.outsider.username])
                ),
                editor=OK.but(hides(lambda w: [w.outsider.username, w.analyst.username])),
                analyst=NOT_FOUND,
            )
        ],
    ),
    Route(
        "orgs:membership_add",
        url=url("orgs:membership_add", ght_a),
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
                data=lambda w: {"user": w.nobody.username, "role": Role.READER},
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(
                    then(lambda w: not role_granted(w), "a refused grant must grant nothing")
                ),
                reader=FORBIDDEN.but(
                    then(lambda w: not role_granted(w), "a refused grant must grant nothing")
                ),
                editor=REDIRECT.but(then(role_granted, "the role should be granted")),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "orgs:membership_remove",
        url=url("orgs:membership_remove", ght_a, lambda w: _membership(w.reader, w.ght_a)),
        calls=[
            Call(
                "post",
                anonymous=LOGIN.but(then(reader_role_kept, "nothing removed anonymously")),
                outsider=NOT_FOUND.but(then(reader_role_kept, "a refused removal removes nothing")),
                reader=FORBIDDEN.but(then(reader_role_kept, "a refused removal removes nothing")),
                editor=REDIRECT.but(then(lambda w: not reader_role_kept(w), "role not removed")),
                analyst=NOT_FOUND.but(then(reader_role_kept, "a refused removal removes nothing")),
            ),
            Call(
                "post",
                url=url(
                    "orgs:membership_remove",
                    lambda w: w.ght_b.pk,
                    lambda w: _membership(w.reader, w.ght_a),
                ),
                note="GHT B's page with GHT A's membership: the outsider may not mix ids",
                anonymous=LOGIN,
                outsider=NOT_FOUND.but(then(reader_role_kept, "a refused removal removes nothing")),
                reader=NOT_FOUND,
                editor=NOT_FOUND,
                analyst=NOT_FOUND,
            ),
            Call(
                "post",
                url=url(
                    "orgs:membership_remove",
                    ght_a,
                    lambda w: _membership(w.outsider, w.ght_b),
                ),
                note="GHT A's page with GHT B's membership: the editor may not mix ids",
                anonymous=LOGIN,
                outsider=NOT_FOUND,
                reader=FORBIDDEN,
                editor=NOT_FOUND.but(
                    then(
                        lambda w: Membership.objects.filter(user=w.outsider).exists(),
                        "another GHT's role must survive",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "orgs:audit_journal",
        url=url("orgs:audit_journal"),
        calls=[
            Call(
                "get",
                setup=plant_events,
                note="each manager sees the events of their own subtree only",
                anonymous=LOGIN,
                outsider=OK.but(
                    shows(lambda w: ["test.event_of_ght_b"]),
                    hides(lambda w: ["test.event_of_ght_a"]),
                ),
                reader=OK.but(hides(lambda w: ["test.event_of_ght_a", "test.event_of_ght_b"])),
                editor=OK.but(
                    shows(lambda w: ["test.event_of_ght_a"]),
                    hides(lambda w: ["test.event_of_ght_b"]),
                ),
                analyst=OK.but(hides(lambda w: ["test.event_of_ght_a", "test.event_of_ght_b"])),
            )
        ],
    ),
    # API --------------------------------------------------------------------------------------
    Route(
        "api:organisation-list",
        url=url("api:organisation-list"),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=OK.but(result_ids(subtree_ids("ght_b"))),
                reader=OK.but(result_ids(subtree_ids("ght_a"))),
                editor=OK.but(result_ids(subtree_ids("ght_a"))),
                analyst=OK.but(result_ids(subtree_ids("region_a"))),
            )
        ],
    ),
    Route(
        "api:organisation-detail",
        url=url("api:organisation-detail", ght_a),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=OK,
            )
        ],
    ),
    Route(
        "api:staff-list",
        url=url("api:staff-list"),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=OK.but(result_ids(lambda w: [w.staff_b1.pk])),
                reader=OK.but(result_ids(lambda w: [w.staff_a1.pk])),
                editor=OK.but(result_ids(lambda w: [w.staff_a1.pk])),
                analyst=OK.but(result_ids(lambda w: [])),
            ),
            Call(
                "post",
                data=NEW_STAFF,
                note="creating needs `change` on the establishment named in the body",
                anonymous=UNAUTHORIZED,
                outsider=BAD_REQUEST.but(
                    shows(lambda w: ["hors de votre p"]),
                    then(lambda w: not staff_created(w), "refused creation wrote a row"),
                ),
                reader=BAD_REQUEST.but(
                    then(lambda w: not staff_created(w), "refused creation wrote a row")
                ),
                editor=CREATED.but(then(staff_created, "the staff member should be created")),
                analyst=BAD_REQUEST,
            ),
        ],
    ),
    Route(
        "api:staff-detail",
        url=url("api:staff-detail", lambda w: w.staff_a1.pk),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            ),
            Call(
                "patch",
                data={"job_title": "IDE de nuit"},
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND.but(then(lambda w: staff_title(w) == "", "refused edit saved")),
                reader=NOT_FOUND.but(then(lambda w: staff_title(w) == "", "refused edit saved")),
                editor=OK.but(then(lambda w: staff_title(w) == "IDE de nuit", "edit not saved")),
                analyst=NOT_FOUND,
            ),
            Call(
                "put",
                data=FULL_STAFF,
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=NOT_FOUND,
                editor=OK.but(
                    then(
                        lambda w: StaffMember.objects.get(pk=w.staff_a1.pk).last_name == "Renommee",
                        "replacement not saved",
                    )
                ),
                analyst=NOT_FOUND,
            ),
            Call(
                "delete",
                note="deleting needs `manage` and is journalled",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=NOT_FOUND.but(
                    then(
                        lambda w: StaffMember.objects.filter(pk=w.staff_a1.pk).exists(),
                        "refused deletion deleted",
                    )
                ),
                editor=NO_CONTENT.but(
                    then(
                        lambda w: (
                            not StaffMember.objects.filter(pk=w.staff_a1.pk).exists()
                            and AuditEvent.objects.filter(action="orgs.staff_deleted").exists()
                        ),
                        "deletion not done or not journalled",
                    )
                ),
                analyst=NOT_FOUND,
            ),
        ],
    ),
    Route(
        "api:membership-list",
        url=url("api:membership-list"),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=OK.but(result_ids(lambda w: [_membership(w.outsider, w.ght_b)])),
                reader=OK.but(
                    result_ids(
                        lambda w: [_membership(w.editor, w.ght_a), _membership(w.reader, w.ght_a)]
                    )
                ),
                editor=OK.but(
                    result_ids(
                        lambda w: [_membership(w.editor, w.ght_a), _membership(w.reader, w.ght_a)]
                    )
                ),
                analyst=OK.but(result_ids(lambda w: [])),
            )
        ],
    ),
    Route(
        "api:membership-detail",
        url=url("api:membership-detail", lambda w: _membership(w.editor, w.ght_a)),
        api=True,
        calls=[
            Call(
                "get",
                anonymous=UNAUTHORIZED,
                outsider=NOT_FOUND,
                reader=OK,
                editor=OK,
                analyst=NOT_FOUND,
            )
        ],
    ),
]

# The staff directory feeds keep their entries next to their tests.
from tests.orgs.matrix_staff import STAFF_ROUTES  # noqa: E402

ROUTES += STAFF_ROUTES

from tests.orgs.matrix_invitations import INVITATION_ROUTES  # noqa: E402

ROUTES += INVITATION_ROUTES
