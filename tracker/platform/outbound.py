"""Where the server may send a request: public addresses only, unless allowed by setting.

Every URL the app fetches (the website health check) goes through this policy twice:

- at entry (the website form, the API, any import): ``entry_error(url)`` refuses an address
  whose host is, or spells in any form (decimal ``2130706433``, octal ``0177.0.0.1``, hex
  ``0x7f.1``, short ``127.1``, IPv4-mapped IPv6), a loopback, private, link-local, shared,
  multicast, reserved or unspecified address, and the ``localhost`` names;
- at connection time, for every hop: ``resolve(host, port)`` looks the name up once and
  refuses it when any of its addresses is not public; the caller connects to the address
  that was checked (``connect``), with the name as Host header and TLS server name, so a
  second lookup cannot point the connection elsewhere (DNS rebinding).

``OUTBOUND_ALLOW`` (comma-separated) lets an intranet deployment reach its own hosts:
networks (``10.20.0.0/16``, ``192.168.4.7``, ``fd00::/8``) allow those addresses; host names
(``intranet.gov.in``) allow that name whatever it resolves to, and ``.intra.gov.in`` every
name under it. See SECURITY.md.
"""
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The reserved names of RFC 2606/6761 (the demo data's): never contacted, not even looked up.
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost")
RESERVED_NAMES = ("example", "test", "invalid", "localhost")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


class Refused(Exception):
    """The policy refuses this address; the message is shown to users."""


def host_of(url):
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def is_reserved_name(host):
    """A demonstration name (.example, .test, .invalid, .localhost): never contacted."""
    host = (host or "").rstrip(".").lower()
    return host in RESERVED_NAMES or host.endswith(RESERVED_SUFFIXES)


def parse_ip(host):
    """The IP address a host spells, in any form a resolver accepts, or None for a name."""
    host = (host or "").strip("[]").split("%", 1)[0].rstrip(".")
    if not host:
        return None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if not _NUMERIC_HOST.match(host):
            return None
        try:  # the legacy forms: 2130706433, 0177.0.0.1, 0x7f.1, 127.1
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip):
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_global and not ip.is_multicast and not ip.is_private
            and not ip.is_loopback and not ip.is_link_local and not ip.is_reserved
            and not ip.is_unspecified)


@dataclass
class Policy:
    networks: list = field(default_factory=list)
    names: set = field(default_factory=set)
    suffixes: tuple = ()

    @classmethod
    def from_setting(cls, value):
        networks, names, suffixes = [], set(), []
        for item in re.split(r"[,\s]+", value or ""):
            item = item.strip().lower().rstrip(".")
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
                continue
            except ValueError:
                pass
            if item.startswith("."):
                suffixes.append(item)
            else:
                names.add(item)
        return cls(networks, names, tuple(suffixes))

    def name_allowed(self, host):
        host = host.rstrip(".").lower()
        return host in self.names or (bool(self.suffixes) and host.endswith(self.suffixes))

    def ip_allowed(self, ip):
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return is_public(ip) or any(ip.version == n.version and ip in n for n in self.networks)

    # Entry ---------------------------------------------------------------------------------

    def entry_error(self, url):
        """Why ``url`` may not be registered for fetching, or None when it may."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return "scheme"
        try:
            host = (parts.hostname or "").rstrip(".").lower()
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            return "port"
        if not host:
            return "host"
        if self.name_allowed(host):
            return None
        ip = parse_ip(host)
        if ip is not None:
            return None if self.ip_allowed(ip) else "internal"
        if host in LOCAL_NAMES or host.endswith(".localhost"):
            return "internal"
        return None

    # Connection ------------------------------------------------------------------------------

    def resolve(self, host, port):
        """The one address to connect to for ``host``: looked up once, every address it has
        checked. Raises ``Refused`` when the name is not allowed or any address is not public
        (and not allowed), ``socket.gaierror`` when it does not resolve."""
        host = host.rstrip(".").lower()
        if is_reserved_name(host) and not self.name_allowed(host):
            raise Refused("Reserved demonstration address; not contacted.")
        by_name = self.name_allowed(host)
        ip = parse_ip(host)
        if ip is not None:
            if not (by_name or self.ip_allowed(ip)):
                raise Refused("The address is internal (loopback, private, link-local or "
                              "reserved); not contacted.")
            return str(ip)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [parse_ip(info[4][0]) for info in infos]
        addresses = [a for a in addresses if a is not None]
        if not addresses:
            raise socket.gaierror("no address")
        if not by_name:
            for address in addresses:
                if not self.ip_allowed(address):
                    raise Refused("The host name leads to an internal address (loopback, "
                                  "private, link-local or reserved); not contacted.")
        return str(addresses[0])


def policy(config=None):
    """The policy of the current app (``OUTBOUND_ALLOW``)."""
    if config is None:
        from flask import current_app

        config = current_app.config
    return Policy.from_setting(config.get("OUTBOUND_ALLOW") or "")


def entry_error(url, config=None):
    return policy(config).entry_error(url)


def connect(address, port, host, scheme, timeout):
    """A socket connected to ``address`` (checked by ``Policy.resolve``), wrapped in TLS for
    https with ``host`` as server name and certificate name (the caller does the handshake:
    ``do_handshake()``)."""
    sock = socket.create_connection((address, port), timeout=timeout)
    if scheme != "https":
        return sock
    try:
        context = ssl.create_default_context()
        return context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    except Exception:
        sock.close()
        raise
