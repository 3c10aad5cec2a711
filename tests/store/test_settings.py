"""The settings object: DOSEWISE_* variables, typed, checked, read once."""

from __future__ import annotations

import pytest

from dosewise.errors import InvalidParameter
from dosewise.settings import DEFAULT_DATABASE_URL, Settings


def test_defaults_are_sqlite_in_the_working_directory_and_argon2_defaults() -> None:
    s = Settings.from_env({})
    assert s.database_url == DEFAULT_DATABASE_URL == "sqlite:///./dosewise.db"
    assert (s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism) == (3, 65536, 4)
    assert s.lockout_threshold == 5


def test_variables_are_read_and_typed() -> None:
    s = Settings.from_env(
        {
            "DOSEWISE_DATABASE_URL": "postgresql+psycopg://h/db",
            "DOSEWISE_LOCKOUT_THRESHOLD": "3",
            "DOSEWISE_SQLITE_BUSY_TIMEOUT_S": "2.5",
            "DOSEWISE_COOKIE_SECURE": "yes",
            "UNRELATED": "x",
        }
    )
    assert s.database_url == "postgresql+psycopg://h/db"
    assert s.lockout_threshold == 3
    assert s.sqlite_busy_timeout_s == 2.5
    assert s.cookie_secure is True


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("DOSEWISE_LOCKOUT_THRESHOLD", "five", "whole number"),
        ("DOSEWISE_LOCKOUT_THRESHOLD", "0", "> 0"),
        ("DOSEWISE_COOKIE_SECURE", "maybe", "true or false"),
        ("DOSEWISE_PASSWORD_MIN_LENGTH", "4", ">= 8"),
        ("DOSEWISE_SQLITE_SYNCHRONOUS", "OFF", "FULL, NORMAL"),
    ],
)
def test_bad_values_name_their_variable(name: str, value: str, rule: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        Settings.from_env({name: value})
    assert info.value.field == name
    assert rule in str(info.value)
