"""Fixtures shared by the posture tests: the Samba AD test domain (tests/posture/samba.py)."""

from tests.posture.samba import samba_dc  # noqa: F401
