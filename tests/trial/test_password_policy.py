"""Which passwords a person may choose (issue 15 item 6): length, not the username, not common.

The weak passwords the security test got accepted (``aaaaaaaaaaaa``, ``password1234``, the
username twice) are refused, each with a rule that names the field and never the password.
"""

from __future__ import annotations

import pytest

from dosewise.errors import InvalidInput
from dosewise.settings import Settings
from dosewise.trial import access
from dosewise.trial.password_policy import check_password, common_passwords

USER = "inv.beijing"


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "at least 12"),
        ("aaaaaaaaaaaa", "repetitive"),
        ("abcabcabcabc", "repetitive"),
        ("ababababababab", "repetitive"),
        ("password1234", "common"),
        ("Password2026!", "common"),
        ("P@ssw0rd12345", "common"),
        ("qwertyuiop123", "common"),
        ("1qaz2wsx3edc", "common"),
        ("woaini1314520", "common"),
        ("123456789012", "consecutive"),
        ("abcdefghijklm", "consecutive"),
        ("inv.beijinginv.beijing", "username"),
        ("my-INV.BEIJING-pass", "username"),
        ("x" * 257, "at most 256"),
    ],
)
def test_weak_passwords_are_refused_naming_the_rule(password: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_password(password, USER, 12)
    assert info.value.field == "password" and rule in info.value.rule
    assert password not in str(info.value)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Tq7-vLm2#pWx9",
        "黄河远上白云间一片孤城万仞山",
        "nine lives of a cat",
    ],
)
def test_long_uncommon_passwords_are_accepted(password: str) -> None:
    check_password(password, USER, 12)


def test_the_shipped_list_is_a_few_thousand_lower_case_entries() -> None:
    common = common_passwords()
    assert 3000 <= len(common) <= 20000
    assert {"password", "qwerty", "iloveyou", "woaini1314", "1qaz2wsx"} <= common
    assert all(entry == entry.lower() and entry.strip() == entry for entry in common)


def test_access_applies_the_policy_with_the_configured_length() -> None:
    settings = Settings(password_min_length=16)
    with pytest.raises(InvalidInput, match="at least 16"):
        access.check_password("Tq7-vLm2#pWx9", USER, settings)
    access.check_password("Tq7-vLm2#pWx9-long", USER, settings)
