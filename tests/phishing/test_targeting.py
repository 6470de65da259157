"""Who a simulation targets and which lure each person gets."""

from __future__ import annotations

import pytest

from hygie.orgs.models import JobFamily, Kind
from hygie.phishing import services
from hygie.phishing.models import CampaignStatus, Recipient, SendingProfile, Simulation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(world):
    """CHU A1 with a laboratory and an accounts office, a few people in each."""
    w = world
    w.lab = factories.org(Kind.SERVICE, w.site_a1, name="Laboratoire de biologie")
    w.accounts = factories.org(Kind.SERVICE, w.site_a1, name="Bureau des entrées")
    w.site_a1b = factories.org(Kind.SITE, w.est_a1, name="Site annexe")
    w.lab_staff = [
        factories.staff(
            w.est_a1, service=w.lab, site=w.site_a1, job_family=JobFamily.MEDICO_TECHNICAL
        )
        for _ in range(3)
    ]
    w.accounts_staff = [
        factories.staff(
            w.est_a1, service=w.accounts, site=w.site_a1b, job_family=JobFamily.ADMINISTRATIVE
        )
        for _ in range(2)
    ]
    w.gone = factories.staff(w.est_a1, service=w.lab, site=w.site_a1, active=False)
    profile = SendingProfile.objects.create(
        organisation=w.est_a1, name="Relais", host="127.0.0.1", from_address="it@chu-a.example"
    )
    w.simulation = Simulation.objects.create(
        organisation=w.est_a1,
        name="Printemps",
        sending_profile=profile,
        lures=["resultats-laboratoire", "facture-fournisseur", "paie-mutuelle"],
    )
    return w


def emails(simulation) -> set[str]:
    return set(simulation.recipients.values_list("email", flat=True))


def test_targeting_by_service_site_and_job_family(hospital):
    w, simulation = hospital, hospital.simulation
    simulation.target_services = [w.lab.pk]
    assert {p.pk for p in services.targeted_staff(simulation)} == {p.pk for p in w.lab_staff}
    simulation.target_services = []
    simulation.target_sites = [w.site_a1b.pk]
    assert {p.pk for p in services.targeted_staff(simulation)} == {p.pk for p in w.accounts_staff}
    simulation.target_sites = []
    simulation.target_job_families = [JobFamily.ADMINISTRATIVE, JobFamily.MEDICO_TECHNICAL]
    targeted = {p.pk for p in services.targeted_staff(simulation)}
    assert targeted == {p.pk for p in w.lab_staff + w.accounts_staff}
    assert w.gone.pk not in targeted  # people who left are never targeted
    # Another GHT's staff never appear.
    assert w.staff_b1.pk not in {p.pk for p in services.targeted_staff(simulation)}


def test_each_service_gets_the_lure_meant_for_it(hospital):
    w, simulation = hospital, hospital.simulation
    simulation.target_services = [w.lab.pk, w.accounts.pk]
    report = services.prepare_recipients(simulation, seed=1)
    lures = dict(Recipient.objects.values_list("email", "lure"))
    assert {lures[p.email.lower()] for p in w.lab_staff} == {"resultats-laboratoire"}
    assert report.recipients == 5 and sum(report.by_lure.values()) == 5
    assert len(set(Recipient.objects.values_list("token", flat=True))) == 5


def test_unusable_addresses_are_excluded_and_listed(hospital):
    w, simulation = hospital, hospital.simulation
    simulation.target_services = [w.lab.pk]
    no_mail = factories.staff(
        w.est_a1, service=w.lab, site=w.site_a1, email="", last_name="Sansmail"
    )
    bad = factories.staff(
        w.est_a1, service=w.lab, site=w.site_a1, email="pas-une-adresse", last_name="Fautive"
    )
    twin = factories.staff(
        w.est_a1,
        service=w.lab,
        site=w.site_a1,
        email=w.lab_staff[0].email.upper(),
        last_name="Doublon",
    )
    report = services.prepare_recipients(simulation, seed=2)
    reasons = {entry.name.split()[0]: entry.reason for entry in report.excluded}
    assert reasons["Sansmail"] == "pas d'adresse e-mail"
    assert reasons["Fautive"] == "adresse invalide : pas-une-adresse"
    assert reasons["Doublon"].startswith("adresse déjà ciblée")
    assert report.recipients == 3
    assert emails(simulation) == {p.email.lower() for p in w.lab_staff}
    assert not simulation.recipients.filter(staff__in=[no_mail, bad, twin]).exists()


def test_unknown_lures_and_launched_simulations_are_refused(hospital):
    simulation = hospital.simulation
    simulation.lures = ["resultats-laboratoire", "loterie-nationale"]
    with pytest.raises(services.SimulationError, match="loterie-nationale"):
        services.prepare_recipients(simulation)
    simulation.lures = ["resultats-laboratoire"]
    simulation.status = CampaignStatus.SENDING
    with pytest.raises(services.SimulationError, match="avant le lancement"):
        services.prepare_recipients(simulation)
    assert not Recipient.objects.exists()
