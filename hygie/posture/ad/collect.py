"""Live collection of an Active Directory domain over LDAP: TLS only, read-only, paged.

`collect(connection)` binds with the connection's ordinary account (simple bind, only ever
inside TLS: LDAPS, or StartTLS before the bind; the server certificate is verified against
the connection's CA or the system's authorities, host name included), reads the rootDSE, the
schema (only to learn whether the LAPS attributes exist), the domain object (password and
lockout policy), then users, computers, groups, trusts and fine-grained password policies with
paged searches read as a stream, converting each entry as it arrives. Only the attributes of
attributes.py are requested — never a password, hash or LAPS password — and nothing is written.

Failures raise `CollectError` with a French sentence saying what failed.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator

import ldap3
from django.utils.translation import gettext as _
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from hygie.core.net import verified_tls_context
from hygie.posture.ad import attributes as attrs
from hygie.posture.ad.snapshot import CollectError, Snapshot, key

CONNECT_TIMEOUT = 10  # seconds to open the TCP connection
RECEIVE_TIMEOUT = 120  # seconds to wait for one answer (one page)
USER_FILTER = "(&(objectCategory=person)(objectClass=user))"
COMPUTER_FILTER = "(objectCategory=computer)"
GROUP_FILTER = "(objectClass=group)"
TRUST_FILTER = "(objectClass=trustedDomain)"
PSO_FILTER = "(objectClass=msDS-PasswordSettings)"
PRINCIPAL_FILTER = "(&(objectClass=foreignSecurityPrincipal)(objectSid=*))"
ACCEPTED_SECURITY = ("ldaps", "starttls")

_LDAP_RESULTS = {
    8: "le contrôleur exige une connexion signée ou chiffrée",
    49: "identifiant ou mot de passe refusé",
    50: "le compte n'a pas le droit de lire l'annuaire",
    51: "le contrôleur est occupé",
    52: "le contrôleur n'est pas disponible",
    53: "le contrôleur refuse d'exécuter la demande",
}


def _describe_socket_error(error: Exception, host: str, port: int) -> str:
    text = str(error)
    lowered = text.lower()
    if "certificate" in lowered or "hostname" in lowered or isinstance(error, ssl.SSLError):
        if "hostname" in lowered or "doesn't match" in lowered or "not match" in lowered:
            return _(
                "certificat TLS de %(host)s refusé : il ne porte pas ce nom d'hôte"
                " (utilisez le nom figurant dans le certificat)."
            ) % {"host": host}
        return _(
            "certificat TLS de %(host)s non reconnu : il n'est pas signé par l'autorité"
            " indiquée (ou par une autorité de confiance du système)."
        ) % {"host": host}
    if "refused" in lowered:
        return _("connexion refusée par %(host)s:%(port)s (service arrêté ou port fermé).") % {
            "host": host,
            "port": port,
        }
    if "timed out" in lowered or "timeout" in lowered:
        return _("délai dépassé : %(host)s:%(port)s ne répond pas.") % {"host": host, "port": port}
    if "name or service not known" in lowered or "getaddrinfo" in lowered:
        return _("nom d'hôte inconnu : %(host)s.") % {"host": host}
    return _("connexion impossible à %(host)s:%(port)s (%(error)s).") % {
        "host": host,
        "port": port,
        "error": text[:200],
    }


def _result_message(conn: ldap3.Connection, what: str) -> str:
    code = conn.result.get("result") if conn.result else None
    reason = _LDAP_RESULTS.get(code) or (conn.result or {}).get("description") or "?"
    return _("%(what)s : %(reason)s (code LDAP %(code)s).") % {
        "what": what,
        "reason": reason,
        "code": code,
    }


def open_connection(connection) -> ldap3.Connection:
    """A bound, read-only ldap3 connection over TLS, or CollectError."""
    security = connection.security
    if security not in ACCEPTED_SECURITY:
        raise CollectError(
            _(
                "connexion LDAP en clair refusée : le mot de passe circulerait en clair."
                " Choisissez LDAPS ou StartTLS."
            )
        )
    if not connection.bind_password:
        # A simple bind with an empty password is an anonymous bind ([RFC 4513] 5.1.2).
        raise CollectError(_("mot de passe du compte de lecture manquant."))
    host = connection.host.strip()
    port = connection.port or (636 if security == "ldaps" else 389)
    try:
        verified_tls_context(connection.ca_certificate)
    except ValueError:
        raise CollectError(_("certificat de l'autorité illisible (PEM attendu).")) from None
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_data=connection.ca_certificate.strip() or None,
        valid_names=[host],
    )
    server = ldap3.Server(
        host,
        port=port,
        use_ssl=security == "ldaps",
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=CONNECT_TIMEOUT,
    )
    conn = ldap3.Connection(
        server,
        user=connection.bind_user,
        password=connection.bind_password,
        authentication=ldap3.SIMPLE,
        read_only=True,
        receive_timeout=RECEIVE_TIMEOUT,
        auto_referrals=False,
        raise_exceptions=False,
    )
    try:
        conn.open()
        if security == "starttls" and not conn.start_tls():
            conn.unbind()
            raise CollectError(_result_message(conn, _("StartTLS refusé par le contrôleur")))
        if not conn.bind():
            message = _result_message(conn, _("authentification refusée"))
            conn.unbind()
            raise CollectError(message)
    except CollectError:
        raise
    except (ldap_errors.LDAPException, OSError) as error:
        cause = error
        # ldap3 wraps the socket error; the original says what really happened.
        while getattr(cause, "__context__", None) is not None and not isinstance(
            cause, ssl.SSLError | socket.timeout | ConnectionRefusedError
        ):
            cause = cause.__context__
        raise CollectError(_describe_socket_error(cause or error, host, port)) from None
    return conn


def _entries(
    conn: ldap3.Connection,
    base: str,
    search_filter: str,
    attributes: list[str],
    page_size: int,
    *,
    scope=ldap3.SUBTREE,
) -> Iterator[tuple[str, attrs.Entry]]:
    """The entries of a paged search, one by one (the generator form keeps one page in memory)."""
    results = conn.extend.standard.paged_search(
        base,
        search_filter,
        search_scope=scope,
        attributes=attributes,
        paged_size=page_size,
        generator=True,
    )
    try:
        for item in results:
            if item.get("type") != "searchResEntry":
                continue  # continuation references (other partitions) are not followed
            entry = {name.lower(): list(values) for name, values in item["raw_attributes"].items()}
            yield item["dn"], entry
    except ldap_errors.LDAPException as error:
        raise CollectError(
            _("lecture de l'annuaire interrompue (%(base)s) : %(error)s")
            % {"base": base, "error": str(error)[:200]}
        ) from None
    if conn.result and conn.result.get("result") not in (0, None):
        raise CollectError(_result_message(conn, _("lecture refusée (%(base)s)") % {"base": base}))


def _complete_ranges(conn: ldap3.Connection, dn: str, entry: attrs.Entry) -> None:
    """Fetch the rest of a ranged multi-valued attribute (AD sends `member;range=0-1499`)."""
    for name in [name for name in entry if ";range=" in name]:
        attribute, _sep, bounds = name.partition(";range=")
        values = entry.pop(name)
        end = bounds.partition("-")[2]
        while end != "*":
            start = int(end) + 1
            conn.search(
                dn,
                "(objectClass=*)",
                search_scope=ldap3.BASE,
                attributes=[f"{attribute};range={start}-*"],
            )
            if not conn.response or conn.response[0].get("type") != "searchResEntry":
                raise CollectError(
                    _("lecture incomplète de %(attribute)s de %(dn)s.")
                    % {"attribute": attribute, "dn": dn}
                )
            raw = conn.response[0]["raw_attributes"]
            ranged = [key for key in raw if key.lower().startswith(f"{attribute};range=")]
            if not ranged:
                break
            values.extend(raw[ranged[0]])
            end = ranged[0].partition(";range=")[2].partition("-")[2]
        entry[attribute] = values


def _convert(function, dn: str, entry: attrs.Entry):
    try:
        return function(dn, entry)
    except ValueError as error:
        raise CollectError(
            _("valeur inattendue dans %(dn)s : %(error)s") % {"dn": dn, "error": error}
        ) from None


def _base(conn, dn: str, attributes: list[str]) -> attrs.Entry | None:
    conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=attributes)
    for item in conn.response or []:
        if item.get("type") == "searchResEntry":
            return {name.lower(): list(values) for name, values in item["raw_attributes"].items()}
    return None


def read_snapshot(conn: ldap3.Connection, *, base_dn: str = "", page_size: int = 500) -> Snapshot:
    """Everything the audit needs from a bound connection."""
    root = _base(
        conn,
        "",
        [
            "defaultNamingContext",
            "schemaNamingContext",
            "configurationNamingContext",
            "domainFunctionality",
        ],
    )
    if root is None:
        raise CollectError(_result_message(conn, _("lecture du rootDSE impossible")))
    read_root = attrs.Reader(root)
    base_dn = base_dn.strip() or read_root.text("defaultNamingContext")
    if not base_dn:
        raise CollectError(_("le contrôleur n'indique pas son contexte de nommage."))
    schema_dn = read_root.text("schemaNamingContext")
    configuration_dn = read_root.text("configurationNamingContext")
    warnings: list[str] = []

    laps_legacy = laps_windows = None
    if schema_dn:
        names = {}
        for name in (attrs.LAPS_LEGACY_EXPIRY, attrs.LAPS_WINDOWS_EXPIRY):
            found = list(
                _entries(
                    conn,
                    schema_dn,
                    f"(&(objectClass=attributeSchema)(lDAPDisplayName={escape_filter_chars(name)}))",
                    ["lDAPDisplayName"],
                    page_size,
                    scope=ldap3.LEVEL,
                )
            )
            names[name] = bool(found)
        laps_legacy = names[attrs.LAPS_LEGACY_EXPIRY]
        laps_windows = names[attrs.LAPS_WINDOWS_EXPIRY]

    domain_entry = _base(conn, base_dn, attrs.DOMAIN_ATTRIBUTES)
    if domain_entry is None:
        raise CollectError(
            _result_message(conn, _("objet du domaine %(dn)s illisible") % {"dn": base_dn})
        )
    netbios = ""
    if configuration_dn:
        for _dn, entry in _entries(
            conn,
            f"CN=Partitions,{configuration_dn}",
            f"(&(objectClass=crossRef)(nCName={escape_filter_chars(base_dn)}))",
            ["nETBIOSName"],
            page_size,
            scope=ldap3.LEVEL,
        ):
            netbios = attrs.Reader(entry).text("nETBIOSName")
    domain = _convert(lambda dn, entry: attrs.to_domain(dn, entry, netbios), base_dn, domain_entry)
    if domain.functional_level is None:
        domain.functional_level = read_root.integer("domainFunctionality", None)

    snapshot = Snapshot(
        domain=domain,
        collected_at=dt.datetime.now(dt.UTC),
        source="live",
        laps_legacy_schema=laps_legacy,
        laps_windows_schema=laps_windows,
        warnings=warnings,
    )
    for dn, entry in _entries(conn, base_dn, USER_FILTER, attrs.USER_ATTRIBUTES, page_size):
        snapshot.users.append(_convert(attrs.to_user, dn, entry))
    computer_attributes = list(attrs.COMPUTER_ATTRIBUTES)
    if laps_legacy:
        computer_attributes.append(attrs.LAPS_LEGACY_EXPIRY)
    if laps_windows:
        computer_attributes.append(attrs.LAPS_WINDOWS_EXPIRY)
    for dn, entry in _entries(conn, base_dn, COMPUTER_FILTER, computer_attributes, page_size):
        snapshot.computers.append(_convert(attrs.to_computer, dn, entry))
    for dn, entry in _entries(conn, base_dn, GROUP_FILTER, attrs.GROUP_ATTRIBUTES, page_size):
        _complete_ranges(conn, dn, entry)
        snapshot.groups.append(_convert(attrs.to_group, dn, entry))
    for base, scope in (
        (base_dn, ldap3.SUBTREE),
        (f"CN=WellKnown Security Principals,{configuration_dn}", ldap3.LEVEL),
    ):
        if base.startswith("CN=WellKnown") and not configuration_dn:
            continue
        for dn, entry in _entries(
            conn, base, PRINCIPAL_FILTER, ["objectSid"], page_size, scope=scope
        ):
            sid = _convert(lambda _dn, entry: attrs.Reader(entry).sid("objectSid"), dn, entry)
            if sid:
                snapshot.principals[key(dn)] = sid
    system = f"CN=System,{base_dn}"
    for dn, entry in _entries(conn, system, TRUST_FILTER, attrs.TRUST_ATTRIBUTES, page_size):
        snapshot.trusts.append(_convert(attrs.to_trust, dn, entry))
    psos = f"CN=Password Settings Container,{system}"
    try:
        for dn, entry in _entries(conn, psos, PSO_FILTER, attrs.PSO_ATTRIBUTES, page_size):
            snapshot.password_settings.append(_convert(attrs.to_password_settings, dn, entry))
    except CollectError:
        warnings.append(
            _(
                "Stratégies de mots de passe affinées (PSO) illisibles avec ce compte : non auditées."
            )
        )
    if not snapshot.password_settings and domain.functional_level and domain.functional_level >= 3:
        # AD lets only administrators read PSOs by default: "none" may mean "not visible".
        warnings.append(
            _(
                "Aucune stratégie de mots de passe affinée (PSO) visible : soit il n'y en a pas,"
                " soit le compte de lecture n'a pas le droit de les lire."
            )
        )
    return snapshot


def collect(connection) -> Snapshot:
    """Read the domain of a `DirectoryConnection`; raises CollectError."""
    conn = open_connection(connection)
    try:
        return read_snapshot(
            conn, base_dn=connection.base_dn, page_size=connection.page_size or 500
        )
    except ldap_errors.LDAPException as error:
        raise CollectError(
            _("lecture de l'annuaire interrompue : %(error)s") % {"error": str(error)[:200]}
        ) from None
    except (OSError, TimeoutError) as error:
        raise CollectError(
            _describe_socket_error(error, connection.host, connection.port or 0)
        ) from None
    finally:
        try:
            conn.unbind()
        except (ldap_errors.LDAPException, OSError):
            pass
