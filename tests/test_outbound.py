"""The outbound policy (tracker/outbound.py) and where it is applied at entry: the website
form and the API refuse internal addresses in every spelling; OUTBOUND_ALLOW lets them in."""
import ipaddress

import pytest

from tests import factories
from tracker.platform.outbound import Policy, Refused, parse_ip

DEFAULT = Policy()

INTERNAL = [
    "http://127.0.0.1/",
    "http://127.0.0.1:5432/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",            # shared address space
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",             # multicast
    "http://240.0.0.1/",             # reserved
    "http://255.255.255.255/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",    # IPv4-mapped
    "http://2130706433/",            # decimal 127.0.0.1
    "http://017700000001/",          # octal
    "http://0177.0.0.1/",
    "http://0x7f000001/",            # hex
    "http://0x7f.1/",
    "http://127.1/",
    "http://0/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://admin.localhost/",
    "https://user:pw@127.0.0.1:8443/x",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_at_entry(url):
    assert DEFAULT.entry_error(url) == "internal"


@pytest.mark.parametrize("url", ["https://india.gov.in/", "http://8.8.8.8/",
                                 "http://134744072/",  # 8.8.8.8 in decimal: public
                                 "https://[2001:4860:4860::8888]/", "https://cafe.de/",
                                 "https://health.ladakh.example/"])
def test_public_addresses_and_names_are_accepted(url):
    assert DEFAULT.entry_error(url) is None


@pytest.mark.parametrize("host, ip", [
    ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"), ("[::ffff:10.0.0.1]", "10.0.0.1"), ("fe80::1%eth0", "fe80::1"),
    ("india.gov.in", None), ("cafe.de", None),
])
def test_every_spelling_of_an_address_is_normalised(host, ip):
    assert parse_ip(host) == (ipaddress.ip_address(ip) if ip else None)


def test_the_allow_list_names_networks_and_hosts():
    policy = Policy.from_setting("10.20.0.0/16, 127.0.0.1 intranet.gov.in,.intra.gov.in")
    assert policy.entry_error("http://10.20.3.4/") is None
    assert policy.entry_error("http://10.21.0.1/") == "internal"
    assert policy.entry_error("http://2130706433/") is None  # 127.0.0.1, allowed
    assert policy.entry_error("http://intranet.gov.in/") is None
    assert policy.name_allowed("wiki.intra.gov.in") and not policy.name_allowed("intra.gov.in.evil")
    assert policy.resolve("10.20.3.4", 80) == "10.20.3.4"
    with pytest.raises(Refused):
        policy.resolve("192.168.0.1", 80)


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(monkeypatch):
    import socket

    def fake(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in {"mixed.gov.in": ["8.8.8.8", "10.0.0.7"],
                           "public.gov.in": ["8.8.4.4"]}[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(Refused, match="internal address"):
        DEFAULT.resolve("mixed.gov.in", 80)
    assert DEFAULT.resolve("public.gov.in", 443) == "8.8.4.4"
    # Allowed by name: whatever it resolves to.
    assert Policy.from_setting("mixed.gov.in").resolve("mixed.gov.in", 80) == "8.8.8.8"


# --- At entry: the website form and the API ---------------------------------------------------


def _form(dept, url):
    return {"department": dept.code, "name": "Portal", "kind": "website", "url": url,
            "hosted_by": "nic"}


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://2130706433:5432/", "http://[::1]/", "http://localhost/"])
def test_the_website_form_refuses_internal_addresses(as_user, url):
    from models import DigitalAsset
    from tracker.extensions import db

    dept = factories.department("health")
    client = as_user(factories.user("nodal", department=dept))
    response = client.post("/websites/new", data=_form(dept, url))
    assert response.status_code == 422
    assert "inside a private network" in response.get_data(as_text=True)
    assert db.session.query(DigitalAsset).count() == 0


def test_the_allow_list_lets_an_intranet_site_in(app, as_user):
    from models import DigitalAsset
    from tracker.extensions import db

    app.config["OUTBOUND_ALLOW"] = "10.20.0.0/16"
    dept = factories.department("health")
    client = as_user(factories.user("nodal", department=dept))
    response = client.post("/websites/new", data=_form(dept, "http://10.20.1.2/"))
    assert response.status_code == 302
    assert db.session.query(DigitalAsset.url).scalar() == "http://10.20.1.2/"


def test_the_api_refuses_internal_addresses(app, client):
    from models import DigitalAsset
    from tracker.extensions import db
    from tracker.operations.tokens import create_token

    dept = factories.department("health")
    user = factories.user("nodal", department=dept)
    asset = factories.asset(department=dept, url="https://portal.health.example/")
    _, token = create_token(user, "test")
    db.session.commit()
    response = client.patch(f"/api/v1/websites/{asset.id}",
                            json={"version": asset.version, "url": "http://0x7f.1:6379/"},
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "url" in response.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(DigitalAsset, asset.id).url == "https://portal.health.example/"
