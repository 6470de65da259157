"""Proxy configurations generated for an application: nginx `auth_request` and Envoy
`ext_authz` (HTTP). The failure mode decides what the proxy does when Hygie cannot answer."""

from __future__ import annotations

from django.conf import settings

from hygie.access.models import FailureMode
from hygie.access.pdp.context import METHOD_HEADER, PROXY_SECRET_HEADER, URI_HEADER

SECRET_PLACEHOLDER = "<secret du mandataire>"  # noqa: S105 - a placeholder


def decision_base() -> str:
    return settings.PDP_URL.rstrip("/")


def nginx_config(application, *, pdp=None, secret=None, hygie=None) -> str:
    """A `server` block fragment: `auth_request` on every location, the decision location,
    the break-the-glass page, and the failure mode (error_page of the auth subrequest)."""
    pdp = (pdp or decision_base()).rstrip("/")
    secret = secret or SECRET_PLACEHOLDER
    slug = application.slug
    if application.failure_mode == FailureMode.OPEN:
        failure = "    # Fail open: if Hygie cannot answer, the request goes through.\n"
        fallback = "location @hygie_unreachable { return 204; }\n"
    else:
        failure = "    # Fail closed: if Hygie cannot answer, the request is refused.\n"
        fallback = "location @hygie_unreachable { return 403; }\n"
    return f"""# Hygie — {application.name} ({slug}): nginx auth_request
# In the http block:  upstream hygie_pdp {{ server {pdp.split("://", 1)[-1]}; keepalive 32; }}
location / {{
    auth_request /_hygie/authz;
    auth_request_set $hygie_decision $upstream_http_x_hygie_decision;
    auth_request_set $hygie_policies $upstream_http_x_hygie_policies;
    auth_request_set $hygie_break_glass $upstream_http_x_hygie_break_glass;
    proxy_set_header X-Hygie-Decision $hygie_decision;
    proxy_set_header X-Hygie-Policies $hygie_policies;
    proxy_set_header X-Hygie-Break-Glass $hygie_break_glass;
    error_page 403 = @hygie_denied;
    proxy_pass {application.upstream};
}}
location = /_hygie/authz {{
    internal;
    proxy_pass http://hygie_pdp/acces/authz/nginx/{slug}/;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host {pdp.split("://", 1)[-1]};
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header {PROXY_SECRET_HEADER} "{secret}";
    proxy_set_header {METHOD_HEADER} $request_method;
    proxy_set_header {URI_HEADER} $request_uri;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_connect_timeout 1s;
    proxy_read_timeout 2s;
{failure}    error_page 500 502 503 504 = @hygie_unreachable;
}}
{fallback}
# A denied person is offered the break-the-glass page (Hygie, through this proxy).
location @hygie_denied {{
    return 303 /_hygie/bris-de-glace/?next=$request_uri;
}}
location /_hygie/bris-de-glace/ {{
    proxy_pass {(hygie or pdp_django()).rstrip("/")}/acces/bris-de-glace/{slug}/;
    proxy_set_header {PROXY_SECRET_HEADER} "{secret}";
    proxy_set_header X-Real-IP $remote_addr;
}}
"""


def pdp_django() -> str:
    return settings.PDP_PAGES_URL.rstrip("/")


def envoy_config(application, *, pdp=None, secret=None) -> str:
    """The `ext_authz` HTTP filter and its cluster (Envoy v3 API)."""
    pdp = (pdp or decision_base()).rstrip("/")
    host, _, port = pdp.split("://", 1)[-1].partition(":")
    secret = secret or SECRET_PLACEHOLDER
    failure_mode_allow = "true" if application.failure_mode == FailureMode.OPEN else "false"
    return f"""# Hygie — {application.name} ({application.slug}): Envoy ext_authz (HTTP service)
http_filters:
- name: envoy.filters.http.ext_authz
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
    transport_api_version: V3
    failure_mode_allow: {failure_mode_allow}
    allowed_headers:
      patterns:
      - exact: x-remote-user
      - exact: x-auth-mfa
      - exact: x-remote-role
      - exact: authorization
      - exact: x-device-id
      - exact: x-forwarded-for
      - exact: x-request-id
    http_service:
      server_uri:
        uri: {pdp}
        cluster: hygie_pdp
        timeout: 2s
      path_prefix: /acces/authz/envoy/{application.slug}
      authorization_request:
        headers_to_add:
        - key: {PROXY_SECRET_HEADER.lower()}
          value: "{secret}"
      authorization_response:
        allowed_upstream_headers:
          patterns:
          - prefix: x-hygie-
clusters:
- name: hygie_pdp
  type: STRICT_DNS
  dns_lookup_family: V4_PREFERRED
  connect_timeout: 1s
  load_assignment:
    cluster_name: hygie_pdp
    endpoints:
    - lb_endpoints:
      - endpoint:
          address:
            socket_address: {{ address: {host}, port_value: {port or 80} }}
"""
