"""State shared by every worker process: the cache from CACHE_URL, and the client's address behind a proxy."""

import ipaddress
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accretion.addresses import forwarded_client, parse_proxies
from accretion.audit.models import AuditEvent
from accretion.env import cache_from_url
from tests.installed import command_env, copy_of, run

REDIS = "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("url, backend, location", [
    ("db://", "db.DatabaseCache", "accretion_cache"),
    ("db://shared_cache", "db.DatabaseCache", "shared_cache"),
    ("redis://127.0.0.1:6379/0", "redis.RedisCache", "redis://127.0.0.1:6379/0"),
    ("rediss://cache.internal:6380/2", "redis.RedisCache", "rediss://cache.internal:6380/2"),
    ("locmem://", "locmem.LocMemCache", ""),
])
def test_cache_url_names_the_backend(url, backend, location):
    entry = cache_from_url("CACHE_URL", url, key_prefix="north")
    assert entry == {"BACKEND": f"django.core.cache.backends.{backend}", "LOCATION": location, "KEY_PREFIX": "north"}


@pytest.mark.parametrize("url", ["memcached://127.0.0.1", "redis", "", "file:///tmp/cache"])
def test_an_unknown_cache_url_is_refused_naming_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must start with db://"):
        cache_from_url("CACHE_URL", url)


def test_a_bad_trusted_proxy_is_refused_naming_it():
    assert parse_proxies(["10.0.0.0/8", "::1", "192.0.2.7"]) == ("10.0.0.0/8", "::1", "192.0.2.7")
    with pytest.raises(ValueError, match="'load-balancer' is not an IP address"):
        parse_proxies(["10.0.0.0/8", "load-balancer"])


PROXIES = ("10.0.0.0/8", "2001:db8::/32")


@pytest.mark.parametrize("peer, header, client", [
    ("203.0.113.9", None, "203.0.113.9"),  # no proxy
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # a client claiming an address: not a proxy, not believed
    ("10.0.0.2", "198.51.100.1", "198.51.100.1"),  # through our balancer
    ("10.0.0.2", "192.0.2.66, 198.51.100.1", "198.51.100.1"),  # the client wrote 192.0.2.66 itself
    ("10.0.0.2", "198.51.100.1, 10.1.1.1", "198.51.100.1"),  # two proxies of ours
    ("10.0.0.2", "10.0.0.3, 10.1.1.1", "10.0.0.3"),  # all ours: the farthest one
    ("10.0.0.2", "198.51.100.1, not-an-address", "10.0.0.2"),  # garbage from our proxy: stop at the proxy
    ("10.0.0.2", "", "10.0.0.2"),
    ("2001:db8::5", "2001:db8::9, 2a00:1450::1", "2a00:1450::1"),
    ("10.0.0.2", " [2a00:1450::1] ", "2a00:1450::1"),
    ("", "198.51.100.1", None),
    ("unix-socket", "198.51.100.1", None),
])
def test_the_client_is_the_first_untrusted_hop_from_the_right(peer, header, client):
    assert forwarded_client(peer, header, PROXIES) == client


addresses = st.ip_addresses().map(str)


@given(peer=addresses, chain=st.lists(addresses | st.text(max_size=12), max_size=6))
def test_without_trusted_proxies_the_header_is_never_read(peer, chain):
    assert forwarded_client(peer, ", ".join(chain), ()) == str(ipaddress.ip_address(peer))


@given(client=st.ip_addresses(v=4).filter(lambda a: a not in ipaddress.ip_network("10.0.0.0/8")).map(str),
       spoofed=st.lists(addresses, max_size=4), hops=st.lists(st.integers(0, 255), max_size=3))
def test_what_a_client_writes_before_the_proxies_is_never_the_answer(client, spoofed, hops):
    """Whatever a client puts into the header, the proxies' own entries decide."""
    chain = [*spoofed, client, *(f"10.0.0.{hop}" for hop in hops)]
    assert forwarded_client("10.9.9.9", ", ".join(chain), PROXIES) == client


@pytest.mark.django_db
def test_sign_in_is_audited_with_the_forwarded_address_only_from_a_trusted_proxy(staff, settings):
    settings.TRUSTED_PROXIES = PROXIES
    nurse = staff[("north", "nurse")]
    for peer, expected in [("10.0.0.2", "198.51.100.1"), ("203.0.113.9", "203.0.113.9")]:
        client = Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR="198.51.100.1")
        client.post("/accounts/login/", {"username": nurse.username, "password": "wrong"})
        assert AuditEvent.objects.filter(action="login_failed").latest("id").client_address == expected


@pytest.mark.django_db
def test_the_reset_limit_counts_the_forwarded_client_not_the_balancer(staff, settings):
    """Behind the balancer every request has its address; the limit is per client, so one noisy client does not
    use up everyone's requests."""
    settings.TRUSTED_PROXIES = PROXIES
    email = staff[("north", "nurse")].email
    for client in ["198.51.100.1"] * 7 + ["198.51.100.2"]:
        response = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client).post("/accounts/password-reset/",
                                                                                   {"email": email})
        assert response.status_code == 302
    rows = AuditEvent.objects.filter(action="password_reset_requested").order_by("id")
    assert [(row.client_address, row.detail["sent"]) for row in rows] == (
        [("198.51.100.1", True)] * 5 + [("198.51.100.1", False)] * 2 + [("198.51.100.2", True)])


COUNT = """
from accretion.ratelimit import over_limit
print(sum(not over_limit({key!r}, 5, 60) for _ in range(4)))
"""


@pytest.mark.parametrize("cache_url", ["db://", REDIS])
def test_a_limit_holds_across_processes(cache_url, tmp_path, migrated_file):
    """Three processes, as three gunicorn workers, each ask four times under one key with a limit of five:
    five are let through in all, not five per process."""
    env = command_env(copy_of(migrated_file, tmp_path, "shared.sqlite3"))
    env.update(CACHE_URL=cache_url, CACHE_KEY_PREFIX=uuid.uuid4().hex)
    allowed = []
    for _ in range(3):
        result = run("shell", "-v0", "-c", COUNT.format(key="reset:198.51.100.1"), env=env)
        assert result.returncode == 0, result.stderr
        allowed.append(int(result.stdout.strip().splitlines()[-1]))
    assert allowed == [4, 1, 0]
