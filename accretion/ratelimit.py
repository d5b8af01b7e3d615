"""A counter per key in Django's cache: how the public pages limit how often one client may ask."""

from django.core.cache import cache


def over_limit(key: str, limit: int, seconds: int) -> bool:
    """Count one more request under `key`; True once more than `limit` came within the `seconds` window."""
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key) > limit
    except ValueError:  # the counter expired between add and incr: a new window
        return False
