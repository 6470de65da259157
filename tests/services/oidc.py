"""A real OpenID Connect provider for the single sign-on tests (fixtures `oidc_provider`,
`oidc_settings`; import them into the test module that uses them).

`tests/oidc_provider/provider.mjs` runs panva's `oidc-provider` (npm) under Node on
127.0.0.1, on a free port, for the whole test session; it is stopped by PID at the end.
Its packages come from `npm ci --prefix tests/oidc_provider` (see docs/oidc.md).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc_provider"
INSTALL_HINT = "npm ci --prefix tests/oidc_provider"
# oidc-provider 9 runs on Node 20.18+ (it prefers 22 and says so on stderr; see decision 0121).
MINIMUM_NODE = (20, 18)
CALLBACK = "http://testserver/oidc/callback/"
PASSWORD = "mot-de-passe-du-fournisseur"
CLIENTS = {
    # RS256 ID tokens, secret in an HTTP Basic header (the OpenID Connect default).
    "hygie": {
        "client_secret": "secret-du-client-hygie-assez-long-pour-hs256",
        "token_endpoint_auth_method": "client_secret_basic",
    },
    # ES256 ID tokens, secret in the form body.
    "hygie-es256": {
        "client_secret": "secret-du-client-es256-assez-long-pour-hs256",
        "token_endpoint_auth_method": "client_secret_post",
        "id_token_signed_response_alg": "ES256",
    },
}


@dataclass
class OIDCProvider:
    issuer: str
    process: subprocess.Popen
    clients: dict = field(default_factory=lambda: CLIENTS)
    password: str = PASSWORD

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict:
        return requests.get(self.discovery_url, timeout=5).json()

    def sign_in(
        self,
        authorization_url: str,
        email: str,
        *,
        amr: str = "pwd",
        acr: str = "",
        email_verified: bool = True,
        browser: requests.Session | None = None,
    ) -> str:
        """Log in at the provider as a person would; returns the URL it sends the browser to.

        `browser` keeps the provider's cookies (its own session) for a later step such as
        logging out at the provider.
        """
        browser = browser or requests.Session()
        response = browser.get(authorization_url, allow_redirects=False, timeout=5)
        login_page = urllib.parse.urljoin(self.issuer, response.headers["Location"])
        form = browser.get(login_page, timeout=5)
        assert "Fournisseur d'identité de test" in form.text, form.text[:300]
        data = {"login": email, "password": self.password, "amr": amr, "acr": acr}
        if email_verified:
            data["email_verified"] = "true"
        response = browser.post(login_page, data=data, allow_redirects=False, timeout=5)
        for _hop in range(5):
            assert response.status_code in (302, 303), response.text[:300]
            location = urllib.parse.urljoin(self.issuer, response.headers["Location"])
            if not location.startswith(self.issuer):
                return location
            response = browser.get(location, allow_redirects=False, timeout=5)
        raise AssertionError("the provider never redirected back to Hygie")


def _start_provider(workdir: Path) -> OIDCProvider:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the OpenID Connect tests (Debian package nodejs).")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if tuple(int(part) for part in version.lstrip("v").split(".")[:2]) < MINIMUM_NODE:
        pytest.fail(f"oidc-provider needs Node.js 20.18 or newer; {node} is {version}.")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(f"The test OpenID Connect provider is not installed: run `{INSTALL_HINT}`.")
    clients = [
        {
            "client_id": client_id,
            "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": ["http://testserver/connexion/"],
            **metadata,
        }
        for client_id, metadata in CLIENTS.items()
    ]
    config = workdir / "provider.json"
    config.write_text(json.dumps({"password": PASSWORD, "clients": clients}), encoding="utf-8")
    log = open(workdir / "provider.log", "w", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "provider.mjs"), str(config)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=PROVIDER_DIR,
        env={**os.environ, "NODE_ENV": "test"},
    )
    line = process.stdout.readline().strip()
    if not line.startswith("READY "):
        process.kill()
        process.wait()
        log.close()
        pytest.fail(
            "The OpenID Connect provider did not start: "
            + (workdir / "provider.log").read_text(encoding="utf-8")[-2000:]
        )
    return OIDCProvider(issuer=line.split(" ", 1)[1], process=process)


@pytest.fixture(scope="session")
def oidc_provider():
    workdir = Path(tempfile.mkdtemp(prefix="hygie-oidc-"))
    provider = _start_provider(workdir)
    try:
        yield provider
    finally:
        os.kill(provider.process.pid, signal.SIGTERM)
        try:
            provider.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            provider.process.kill()
            provider.process.wait()
        provider.process.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def oidc_settings(settings, oidc_provider):
    """Hygie configured for the test provider, endpoint by endpoint (no discovery)."""
    metadata = oidc_provider.metadata()
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Annuaire du GHT"
    settings.OIDC_RP_CLIENT_ID = "hygie"
    settings.OIDC_RP_CLIENT_SECRET = CLIENTS["hygie"]["client_secret"]
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_TOKEN_USE_BASIC_AUTH = True
    settings.OIDC_DISCOVERY_URL = ""
    settings.OIDC_OP_ISSUER = metadata["issuer"]
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = metadata["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = metadata["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = metadata["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = metadata["jwks_uri"]
    settings.OIDC_OP_END_SESSION_ENDPOINT = ""
    settings.OIDC_CREATE_USER = False
    settings.OIDC_PROVIDER_LOGOUT = False
    settings.OIDC_ACR_VALUES = ""
    return settings
