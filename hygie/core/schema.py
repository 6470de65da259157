"""OpenAPI description of Hygie's own authentication (drf-spectacular extensions).

Imported by CoreConfig.ready(): drf-spectacular finds extensions by subclassing.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hygie.accounts.api_auth.ApiTokenAuthentication"
    name = "jetonApi"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 — the HTTP scheme name, not a secret
            bearer_format="hyg_…",
        )
