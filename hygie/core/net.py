from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str:
    """Client address, trusting X-Forwarded-For only for the configured number of proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return remote


def verified_tls_context(ca_pem: str = ""):
    """A client TLS context that verifies the server, trusting `ca_pem` (an internal authority)
    besides the system's. Raises ValueError when the PEM cannot be read."""
    import ssl

    context = ssl.create_default_context()
    if ca_pem.strip():
        try:
            context.load_verify_locations(cadata=ca_pem)
        except (ssl.SSLError, ValueError):
            raise ValueError("unreadable PEM certificate") from None
    return context
