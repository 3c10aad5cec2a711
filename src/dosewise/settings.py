"""One settings object for the service, read once from ``DOSEWISE_*`` environment variables.

Everything that talks to a database, hashes a password or opens a session takes a
:class:`Settings` as an argument; only the shell (CLI, ``create_app``) calls :func:`get_settings`.
Nothing is read at import time.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dosewise.errors import InvalidParameter

PREFIX = "DOSEWISE_"
DEFAULT_DATABASE_URL = "sqlite:///./dosewise.db"


@dataclass(frozen=True)
class Settings:
    """Service configuration; every field can be set as ``DOSEWISE_<FIELD NAME IN CAPITALS>``."""

    #: SQLAlchemy URL: SQLite (one site, the default) or ``postgresql+psycopg://`` (multi-site).
    database_url: str = DEFAULT_DATABASE_URL
    #: A protocol file (YAML); empty means the embedded NCT07070323 protocol.
    protocol_path: str = ""
    #: A session token lives at most this long after login (minutes).
    session_minutes: int = 480
    #: ... and expires after this long without use (minutes).
    session_idle_minutes: int = 30
    #: Consecutive failed logins (or failed signature password re-entries) that lock an account.
    lockout_threshold: int = 5
    #: How long a lock-out lasts (minutes); 0 means until an administrator unlocks the account.
    lockout_minutes: int = 30
    #: Shortest password a person may choose.
    password_min_length: int = 12
    #: Argon2id cost (argon2-cffi defaults; tests lower them to keep hashing cheap).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    #: SQLite durability: FULL survives power loss, NORMAL survives a killed process.
    sqlite_synchronous: str = "FULL"
    #: How long a SQLite writer waits for another writer before giving up (seconds).
    sqlite_busy_timeout_s: float = 30.0
    #: Send the session cookie only over HTTPS (turn on behind a TLS proxy).
    cookie_secure: bool = False
    #: Largest request body the service reads (bytes); a larger one is refused with 413 before
    #: it is read (by its Content-Length, or as its chunks arrive).
    max_body_bytes: int = 1_048_576
    #: Cache of protocol-only computations (the design report's operating characteristics and
    #: BOP2 boundaries) and of report figures (keyed by what they show): a folder, empty for
    #: ``$XDG_CACHE_HOME/dosewise`` (``~/.cache/dosewise``), or ``off``.
    cache_dir: str = ""
    #: Where ``dosewise serve`` listens by default.
    host: str = "127.0.0.1"
    port: int = 8000

    def __post_init__(self) -> None:
        _check_positive(self, "session_minutes", "session_idle_minutes", "lockout_threshold")
        _check_positive(self, "argon2_time_cost", "argon2_parallelism", "port", "max_body_bytes")
        if self.lockout_minutes < 0:
            raise InvalidParameter(_env("lockout_minutes"), self.lockout_minutes, "must be >= 0")
        if self.password_min_length < 8:
            raise InvalidParameter(
                _env("password_min_length"), self.password_min_length, "must be >= 8"
            )
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise InvalidParameter(
                _env("argon2_memory_kib"), self.argon2_memory_kib, "must be >= 8 × parallelism"
            )
        if self.sqlite_synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise InvalidParameter(
                _env("sqlite_synchronous"), self.sqlite_synchronous, "must be FULL, NORMAL or EXTRA"
            )
        if not self.database_url.strip():
            raise InvalidParameter(_env("database_url"), self.database_url, "must not be empty")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``DOSEWISE_*`` variables; a badly typed value names its variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(_env(f.name))
            if raw is None:
                continue
            values[f.name] = _parse(f.name, str(f.type), raw)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests use it for cheap Argon2 and short sessions)."""
        return dataclasses.replace(self, **changes)


def _env(name: str) -> str:
    return PREFIX + name.upper()


def _check_positive(settings: Settings, *names: str) -> None:
    for name in names:
        value = getattr(settings, name)
        if value <= 0:
            raise InvalidParameter(_env(name), value, "must be > 0")


def _parse(name: str, type_name: str, raw: str) -> Any:
    text = raw.strip()
    if type_name == "int":
        try:
            return int(text)
        except ValueError:
            raise InvalidParameter(_env(name), raw, "must be a whole number") from None
    if type_name == "float":
        try:
            return float(text)
        except ValueError:
            raise InvalidParameter(_env(name), raw, "must be a number") from None
    if type_name == "bool":
        lowered = text.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise InvalidParameter(_env(name), raw, "must be true or false")
    return text


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use and then kept."""
    return Settings.from_env()


def cheap_hashing(settings: Settings) -> Settings:
    """The same settings with the cheapest Argon2 cost argon2-cffi accepts (tests only)."""
    return settings.replace(argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1)
