"""The address to open in a browser for the address `runserver` is given (`make run HOST=...`)."""

import re

DEFAULT_PORT = "8000"
_ADDRESS = re.compile(r"^(?:(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(?P<port>\d+)$")
_ANY_IPV4 = {"", "0", "0.0.0.0"}  # runserver reads "0" as 0.0.0.0


def browse_url(address: str) -> str:
    """'9000' -> 'http://127.0.0.1:9000/'; '0.0.0.0:8000' -> 'http://127.0.0.1:8000/' (a server listening on
    every address is reached on this machine at 127.0.0.1); '[::]:8000' -> 'http://[::1]:8000/'; a host name or
    address is kept. Raises ValueError for what runserver would refuse too."""
    address = (address or "").strip()
    match = _ADDRESS.fullmatch(address or DEFAULT_PORT)
    if not match or not 0 < int(match["port"]) < 65536:
        raise ValueError(f"not an address runserver takes (port, or host:port): {address!r}")
    host, port = match["host"] or "", str(int(match["port"]))
    if host in _ANY_IPV4:
        host = "127.0.0.1"
    elif host == "[::]":
        host = "[::1]"
    return f"http://{host}:{port}/"
