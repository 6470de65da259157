"""The API documentation page: Swagger UI served from drf-spectacular-sidecar, no CDN."""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView

from hygie.core.middleware import CONTENT_SECURITY_POLICY


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file, so the page needs no inline script.

    Swagger UI sets inline `style` attributes; they are allowed on this page only (inline
    styles cannot run code), scripts stay limited to Hygie's own files.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )
        return response
