"""Typed readers for settings that come from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEFAULT_CACHE_TABLE = "accretion_cache"


def cache_from_url(name: str, url: str, *, key_prefix: str = "") -> dict:
    """A CACHES entry from a URL: `db://[table]` (Django's database cache, the default: shared by every process
    on one database), `redis://host:port/db`, `rediss://…` or `unix://…` (Django's Redis cache), `locmem://`
    (this process only: for a single-process development server)."""
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower() if separator else ""
    if scheme == "db":
        entry = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": rest or DEFAULT_CACHE_TABLE}
    elif scheme in {"redis", "rediss", "unix"}:
        entry = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    elif scheme == "locmem":
        entry = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": rest}
    else:
        raise ImproperlyConfigured(f"{name} must start with db://, redis://, rediss://, unix:// or locmem://, "
                                   f"not {url!r}")
    if key_prefix:
        entry["KEY_PREFIX"] = key_prefix
    return entry
