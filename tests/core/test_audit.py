"""The security journal: a hash chain that `hygie audit verify` checks end to end."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hygie.core.audit import record_event, verify_chain
from hygie.core.models import AuditEvent


@pytest.fixture
def journal(world):
    for n in range(1, 6):
        record_event(
            f"test.event_{n}", actor=world.editor, organisation=world.ght_a, details={"n": n}
        )
    return list(AuditEvent.objects.order_by("sequence"))


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_output(capsys):
    """Run `hygie audit verify`; returns (ok, everything it printed)."""
    try:
        call_command("audit", "verify")
        ok = True
    except CommandError as exc:
        ok = False
        message = str(exc)
    out, err = capsys.readouterr()
    return ok, out + err + ("" if ok else message)


def test_an_untouched_journal_verifies(journal, capsys):
    assert verify_chain().ok
    ok, output = verify_output(capsys)
    assert ok
    assert "Journal intègre : 5 entrées vérifiées" in output


def test_each_entry_chains_to_the_previous_one(journal):
    assert journal[0].previous_digest == "0" * 64
    for before, after in zip(journal, journal[1:], strict=False):
        assert after.previous_digest == before.digest
        assert after.sequence == before.sequence + 1


def test_an_entry_edited_in_the_database_is_named(journal, capsys):
    target = journal[2]
    raw("UPDATE core_auditevent SET actor_label = %s WHERE id = %s", ["quelqu'un", target.pk])
    ok, output = verify_output(capsys)
    assert not ok
    assert f"entrée {target.sequence} : contenu modifié" in output
    assert "Journal altéré" in output


def test_editing_the_details_is_detected_too(journal, capsys):
    raw("UPDATE core_auditevent SET details = %s WHERE id = %s", ['{"n": 99}', journal[0].pk])
    ok, output = verify_output(capsys)
    assert not ok and f"entrée {journal[0].sequence} : contenu modifié" in output


def test_rewriting_an_entry_with_a_fresh_digest_breaks_the_next_link(journal, capsys):
    # A forger who recomputes a plain SHA-256 still lacks the key, and the next entry no
    # longer points to the rewritten one.
    import hashlib

    target = journal[1]
    raw(
        "UPDATE core_auditevent SET action = 'test.forged', digest = %s WHERE id = %s",
        [hashlib.sha256(b"forged").hexdigest(), target.pk],
    )
    ok, output = verify_output(capsys)
    assert not ok
    assert f"entrée {target.sequence} : contenu modifié" in output
    assert f"entrée {target.sequence + 1} : chaînage rompu" in output


def test_a_middle_entry_deleted_in_the_database_is_named(journal, capsys):
    target = journal[2]
    raw("DELETE FROM core_auditevent WHERE id = %s", [target.pk])
    ok, output = verify_output(capsys)
    assert not ok
    assert f"entrée {target.sequence} manquante (supprimée)" in output
    assert f"entrée {target.sequence + 1} : chaînage rompu" in output


def test_several_middle_entries_deleted_are_named_as_a_range(journal, capsys):
    first, last = journal[1].sequence, journal[2].sequence
    raw("DELETE FROM core_auditevent WHERE sequence IN (%s, %s)", [first, last])
    ok, output = verify_output(capsys)
    assert not ok and f"entrées {first}–{last} manquantes (supprimées)" in output


def test_the_last_entries_deleted_in_the_database_are_detected(journal, capsys):
    raw("DELETE FROM core_auditevent WHERE sequence > %s", [journal[2].sequence])
    ok, output = verify_output(capsys)
    assert not ok
    assert (
        f"devrait se terminer à l'entrée {journal[-1].sequence}, "
        f"il s'arrête à {journal[2].sequence}"
    ) in output


def test_a_fully_emptied_journal_is_detected(journal, capsys):
    raw("DELETE FROM core_auditevent")
    ok, output = verify_output(capsys)
    assert not ok
    assert f"devrait se terminer à l'entrée {journal[-1].sequence}" in output


def test_the_orm_refuses_to_edit_or_delete_an_entry(journal):
    entry = AuditEvent.objects.get(pk=journal[0].pk)
    entry.action = "test.rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    assert AuditEvent.objects.filter(action="test.rewritten").count() == 0
    assert AuditEvent.objects.count() == 5


def test_bulk_orm_changes_are_refused_too(journal):
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=journal[0].pk).update(action="test.rewritten")
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.all().delete()
    assert verify_chain().ok


def test_events_keep_who_what_where(world, rf):
    request = rf.get("/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Firefox ESR")
    request.user = world.editor
    event = record_event(
        "orgs.role_granted",
        request=request,
        target=world.reader,
        organisation=world.ght_a,
        details={"role": "lecteur"},
    )
    assert (event.actor, event.actor_label, event.ip_address, event.user_agent) == (
        world.editor,
        "rssi-a",
        "10.1.2.3",
        "Firefox ESR",
    )
    assert (event.target_type, event.target_id, event.organisation_id_at_event) == (
        "accounts.user",
        str(world.reader.pk),
        world.ght_a.pk,
    )


def test_deleting_a_user_keeps_the_journal_verifiable(journal, world, capsys):
    # Accounts come and go; their past actions stay in the journal, chain intact.
    world.editor.delete()
    ok, output = verify_output(capsys)
    assert ok, output
    assert AuditEvent.objects.filter(actor_label="rssi-a").count() == 5


def test_a_truncation_that_also_rewrites_the_head_is_caught_by_an_anchor(journal, capsys):
    call_command("audit", "head")
    anchor = capsys.readouterr().out.strip()
    last = journal[-1]
    assert anchor == f"{last.sequence}:{last.digest}"

    # Someone with database access removes the last two entries and makes the chain head agree.
    kept = journal[2]
    raw("DELETE FROM core_auditevent WHERE sequence > %s", [kept.sequence])
    raw(
        "UPDATE core_auditchainhead SET last_sequence = %s, last_digest = %s",
        [kept.sequence, kept.digest],
    )
    # The chain is consistent in itself: only a record kept outside Hygie shows the loss.
    ok, _ = verify_output(capsys)
    assert ok
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--anchor", anchor)
    assert (
        f"l'entrée {last.sequence}, notée comme point d'ancrage, n'existe plus"
        in capsys.readouterr().err
    )


def test_a_rewritten_entry_does_not_match_its_anchor(journal, capsys):
    target = journal[1]
    raw("UPDATE core_auditevent SET digest = %s WHERE id = %s", ["f" * 64, target.pk])
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--anchor", f"{target.sequence}:{target.digest}")
    assert "ne correspond pas au point d'ancrage" in capsys.readouterr().err


def test_a_malformed_anchor_is_explained(journal):
    with pytest.raises(CommandError, match="forme attendue N:EMPREINTE"):
        call_command("audit", "verify", "--anchor", "12-abc")
