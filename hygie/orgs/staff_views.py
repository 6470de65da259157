"""Staff directory feeds: CSV import and LDAP directory, for managers of an establishment."""

from __future__ import annotations

import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from hygie.accounts.views import sudo_required
from hygie.core.audit import record_event
from hygie.core.visibility import get_visible_or_404
from hygie.orgs.forms import MAP_FIELDS, DirectorySourceForm, StaffImportForm
from hygie.orgs.models import DirectorySource, Kind, Organisation, SyncStatus
from hygie.orgs.roles import MANAGE, VIEW
from hygie.orgs.staff_import import MAX_UPLOAD_BYTES, import_staff, record_import_event
from hygie.orgs.tasks import sync_directory_source

# Multipart framing around the file: a request larger than this is refused unread.
MULTIPART_OVERHEAD = 64 * 1024


def manager_of_establishment(view):
    """Resolve `org_id` to an establishment the user manages.

    Out of the user's scope: 404, as for any other tenant's object. In scope but
    without the manage action (a reader): a 403 page that says why.
    """

    @wraps(view)
    def wrapper(request, org_id, *args, **kwargs):
        establishments = Organisation.objects.filter(kind=Kind.ESTABLISHMENT)
        try:
            node = get_visible_or_404(establishments, request.user, MANAGE, pk=org_id)
        except Http404:
            node = get_visible_or_404(establishments, request.user, VIEW, pk=org_id)
            return render(request, "orgs/refused.html", {"node": node}, status=403)
        return view(request, node, *args, **kwargs)

    return wrapper


class InMemoryUploadHandler(FileUploadHandler):
    """Keeps an uploaded file in memory only (never in a temporary file) and stops at a size."""

    def __init__(self, request=None, max_bytes: int = MAX_UPLOAD_BYTES):
        super().__init__(request)
        self.max_bytes = max_bytes

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        if self.buffer.tell() + len(raw_data) > self.max_bytes:
            self.request.hygie_upload_too_large = True
            raise SkipFile()
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            self.buffer,
            self.field_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )


@csrf_exempt  # checked by csrf_protect below, once the in-memory upload handler is in place
@login_required
@manager_of_establishment
def staff_import(request, node):
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
            return _render_import(
                request, node, StaffImportForm(max_bytes=MAX_UPLOAD_BYTES), too_large=True
            )
        request.upload_handlers = [InMemoryUploadHandler(request, MAX_UPLOAD_BYTES)]
    return _staff_import_form(request, node)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _staff_import_form(request, node):
    if request.method != "POST":
        return _render_import(request, node, StaffImportForm(max_bytes=MAX_UPLOAD_BYTES))
    form = StaffImportForm(request.POST, request.FILES, max_bytes=MAX_UPLOAD_BYTES)
    if getattr(request, "hygie_upload_too_large", False):
        return _render_import(
            request, node, StaffImportForm(max_bytes=MAX_UPLOAD_BYTES), too_large=True
        )
    if not form.is_valid():
        return _render_import(request, node, form)
    options = form.cleaned_data
    upload = options["file"]
    report = import_staff(
        node,
        upload.read(),
        create_services=options["create_services"],
        deactivate_missing=options["deactivate_missing"],
        dry_run=options["dry_run"],
    )
    if report.ok and not report.dry_run:
        record_import_event(report, node, request=request, filename=upload.name)
    return _render_import(request, node, StaffImportForm(max_bytes=MAX_UPLOAD_BYTES), report=report)


def _render_import(request, node, form, *, report=None, too_large=False):
    return render(
        request,
        "orgs/staff_import.html",
        {
            "node": node,
            "form": form,
            "report": report,
            "too_large": too_large,
            "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024),
        },
        status=413 if too_large else 200,
    )


@login_required
@manager_of_establishment
def directory_source(request, node):
    source = DirectorySource.objects.filter(establishment=node).first()
    return render(
        request,
        "orgs/directory_source.html",
        {
            "node": node,
            "source": source,
            "result": source.last_sync_result if source else {},
            "mapping": [
                (label, source.attribute_map.get(key) or [])
                for key, label in MAP_FIELDS.items()
                if source and source.attribute_map.get(key)
            ],
            "cleartext": bool(
                source and source.server_url.startswith("ldap://") and not source.start_tls
            ),
        },
    )


@login_required
@manager_of_establishment
@sudo_required
@require_http_methods(["GET", "POST"])
def directory_source_edit(request, node):
    instance = DirectorySource.objects.filter(establishment=node).first() or DirectorySource(
        establishment=node
    )
    creating = instance.pk is None
    form = DirectorySourceForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        source = form.save()
        record_event(
            "orgs.directory_source_created" if creating else "orgs.directory_source_changed",
            request=request,
            target=source,
            organisation=node,
            details={
                "changed": sorted(
                    name for name in form.changed_data if name != "new_bind_password"
                ),
                "bind_password_changed": form.password_changed,
            },
        )
        messages.success(request, _("Configuration de l'annuaire enregistrée."))
        return redirect("orgs:directory_source", org_id=node.pk)
    return render(
        request,
        "orgs/directory_source_form.html",
        {"node": node, "form": form, "creating": creating},
    )


@login_required
@manager_of_establishment
@require_POST
def directory_sync(request, node):
    source = DirectorySource.objects.filter(establishment=node).first()
    if source is None:
        raise Http404
    DirectorySource.objects.filter(pk=source.pk).exclude(
        last_sync_status=SyncStatus.RUNNING
    ).update(last_sync_status=SyncStatus.QUEUED)
    sync_directory_source.enqueue(source.pk, request.user.pk)
    messages.success(
        request,
        _("Synchronisation lancée ; son résultat s'affiche ici dès qu'elle est terminée."),
    )
    return redirect("orgs:directory_source", org_id=node.pk)
