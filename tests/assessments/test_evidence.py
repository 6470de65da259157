"""Evidence files: type and size limits, storage outside the web root, guarded download."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hygie.assessments.evidence import MAX_EVIDENCE_BYTES
from hygie.assessments.models import Evidence
from tests.clients import browser
from tests.governance import campaign

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def answer(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return campaign(world.est_a1).answers.get(node__ref_id="GOV.1")


def upload(client, answer, name, content):
    url = reverse("assessments:evidence_upload", args=[answer.campaign_id, answer.pk])
    response = client.post(url, {"file": SimpleUploadedFile(name, content)}, follow=True)
    return response.content.decode()


def test_a_pdf_is_kept_outside_the_web_root_and_served_sandboxed(world, answer):
    client = browser(world.editor)
    page = upload(client, answer, "PSSI signée 2026.pdf", PDF)
    assert "Preuve « PSSI signée 2026.pdf » ajoutée." in page
    item = Evidence.objects.get(answer=answer)
    stored = Path(item.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not stored.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert stored.name != "PSSI signée 2026.pdf"  # the uploaded name never reaches the disk
    assert item.sha256 and item.size == len(PDF)

    response = browser(world.reader).get(reverse("assessments:evidence_download", args=[item.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    # The history says a file was added.
    assert answer.revisions.filter(note__contains="PSSI signée 2026.pdf").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("outil.exe", b"MZ\x90\x00", "Type de fichier refusé (« .exe »)"),
        ("page.html", b"<script>alert(1)</script>", "Type de fichier refusé (« .html »)"),
        (
            "faux.pdf",
            b"<html><script>alert(1)</script>",
            "ne correspond pas à son extension « .pdf »",
        ),
        ("note.txt", b"abc\x00def", "doit être du texte"),
        ("vide.pdf", b"", "Choisissez un fichier"),
    ],
)
def test_refused_files_are_explained_and_nothing_is_stored(world, answer, name, content, message):
    page = upload(browser(world.editor), answer, name, content)
    assert message in page
    assert not Evidence.objects.exists()
    evidence_dir = Path(settings.MEDIA_ROOT) / "evidence"
    assert not evidence_dir.exists() or not any(evidence_dir.rglob("*"))


def test_a_file_over_the_size_limit_is_refused(world, answer):
    big = b"%PDF-1.4\n" + b"0" * MAX_EVIDENCE_BYTES
    page = upload(browser(world.editor), answer, "gros.pdf", big)
    assert "dépasse 20 Mo" in page
    assert not Evidence.objects.exists()


def test_another_tenant_gets_404_on_a_file_and_a_reader_cannot_add_one(world, answer):
    upload(browser(world.editor), answer, "charte.pdf", PDF)
    item = Evidence.objects.get()
    assert (
        browser(world.outsider)
        .get(reverse("assessments:evidence_download", args=[item.pk]))
        .status_code
        == 404
    )
    assert (
        browser(world.analyst)
        .get(reverse("assessments:evidence_download", args=[item.pk]))
        .status_code
        == 404
    )
    url = reverse("assessments:evidence_upload", args=[answer.campaign_id, answer.pk])
    response = browser(world.reader).post(url, {"file": SimpleUploadedFile("x.pdf", PDF)})
    assert response.status_code == 403
    assert Evidence.objects.count() == 1
