"""The address `make run` prints for the HOST given to runserver."""

import re
from pathlib import Path

import pytest

from accretion.cli.address import browse_url


@pytest.mark.parametrize("address, url", [
    ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
    ("9000", "http://127.0.0.1:9000/"),
    ("", "http://127.0.0.1:8000/"),
    ("0.0.0.0:8000", "http://127.0.0.1:8000/"),
    ("0:8080", "http://127.0.0.1:8080/"),
    ("[::]:8000", "http://[::1]:8000/"),
    ("[::1]:8000", "http://[::1]:8000/"),
    ("localhost:8001", "http://localhost:8001/"),
    ("192.168.1.20:8000", "http://192.168.1.20:8000/"),
    (" 8000 ", "http://127.0.0.1:8000/"),
])
def test_the_printed_address_is_one_a_browser_reaches(address, url):
    assert browse_url(address) == url


@pytest.mark.parametrize("address", ["nine", "host:", "8000:host", "0.0.0.0:0", "1:70000", "a b:80"])
def test_addresses_runserver_refuses_are_refused(address):
    with pytest.raises(ValueError):
        browse_url(address)


def test_make_run_passes_the_same_host_to_demo_and_runserver():
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"accretion demo --address \$\(HOST\)", run)
    assert re.search(r"scripts/serve\.sh \$\(HOST\)", run)  # the server and its worker
    serve = (Path(__file__).parent.parent / "scripts" / "serve.sh").read_text()
    assert re.search(r'runserver "\$1"', serve) and "worker" in serve
