"""The README's run command, as an evaluator meets it: `hygie demo` on a fresh data directory,
then the demo RSSI logs in with a real browser and sees the GHT and its establishments."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    port = _free_port()
    # A clean environment, as on a fresh machine: none of the test settings leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIE_", "DJANGO_"))}
    env["HYGIE_DATA_DIR"] = str(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "hygie", "demo", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    printed = []
    try:
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Le code de double authentification"):
                break
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/connexion/", timeout=2)  # noqa: S310 — loopback
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("hygie demo did not serve:\n" + "".join(printed))
                time.sleep(0.2)
        yield url, "".join(printed)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_the_demo_serves_and_the_rssi_sees_the_ght(browser, demo_server):
    url, printed = demo_server
    # The command prints the address and the demo logins.
    assert url in printed
    assert "rssi" in printed and "hygie-demo-2026" in printed

    context = browser.new_context(base_url=url, locale="fr-FR")
    page = context.new_page()
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill("rssi")
    page.get_by_label("Mot de passe").fill("hygie-demo-2026")
    page.get_by_role("button", name="Se connecter").click()
    # Demo accounts show their current second-factor code on the code page.
    code = re.search(r"code actuel (\d{6})", page.content()).group(1)
    page.get_by_label("Code à 6 chiffres ou code de secours").fill(code)
    page.get_by_role("button", name="Valider").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("GHT des Deux Caps")
    establishments = page.get_by_test_id("children")
    for name in (
        "Centre hospitalier universitaire de Valmont",
        "Centre hospitalier de Marquise-sur-Mer",
        "Centre hospitalier de Hautbois",
        "EHPAD Les Tilleuls",
    ):
        expect(establishments).to_contain_text(name)
    context.close()
