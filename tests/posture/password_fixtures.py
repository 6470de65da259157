"""ADAudit rows with password figures from the real analysis (ad-ui records them after merge)."""

from __future__ import annotations

from hygie.posture.ad import passwords, rules
from hygie.posture.models import ADAudit
from tests.posture.ad_builders import NOW, Builder


def audit_with_passwords(
    organisation, *, domain="chu-exemple.local", collected_at=NOW, build=None, target=None
) -> ADAudit:
    b = Builder()
    b.domain.dns_name = domain
    b.domain.min_pwd_length = 8
    b.user("agent-ancien", pwd=3000)
    b.admin("adm-ancien", pwd=1500)
    if build:
        build(b)
    b.snapshot.collected_at = collected_at
    findings = rules.evaluate(b.snapshot)
    scores = rules.category_scores(findings)
    return ADAudit.objects.create(
        organisation=organisation,
        domain=domain,
        domain_sid=b.domain.sid,
        source="ldapdomaindump",
        collected_at=collected_at,
        score=max(scores.values()),
        maturity=rules.maturity(findings),
        rules_version=rules.RULES_VERSION,
        stats={"passwords": passwords.analyse(b.snapshot, now=collected_at, target=target)},
    )
