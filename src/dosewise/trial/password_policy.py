"""Which passwords a person may choose (NIST SP 800-63B §5.1.1.2 style: length and a blocklist).

A password must be at least ``password_min_length`` characters (12 by default) and at most
:data:`MAX_PASSWORD_LENGTH`, must not contain the username (in any case), and must not be
guessable:

* not on the common-password list shipped as package data (``data/common-passwords.txt``,
  built by ``scripts/common_passwords.py``; that script says what the list is), looked up in
  lower case, also after stripping leading and trailing digits and symbols (``Password2026!``
  is ``password``) and after undoing letter-for-digit swaps (``p@ssw0rd``);
* not one character or one short group repeated (``aaaaaaaaaaaa``, ``abcabcabcabc``);
* not a run of consecutive characters (``123456789012``, ``abcdefghijkl``);
* not made of fewer than :data:`MIN_DISTINCT` different characters.

Each refusal is an :class:`~dosewise.errors.InvalidInput` on the field ``password`` that says
which rule failed, never echoing the password.
"""

from __future__ import annotations

import functools
import itertools
import re
from importlib import resources

from dosewise.errors import InvalidInput

MAX_PASSWORD_LENGTH = 256
#: Fewer different characters than this is guessable whatever the length.
MIN_DISTINCT = 5
HIDDEN = "[hidden]"
#: Digits and symbols that people put around a word.
_AFFIX = re.compile(r"^[\W\d_]+|[\W\d_]+$")
#: Letter-for-digit (or symbol) swaps undone before a lookup.
_UNSWAP = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    text = (
        resources.files("dosewise.trial")
        .joinpath("data", "common-passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _repeated_unit(text: str) -> bool:
    """True when ``text`` is one group of 1-4 characters repeated (``abab...``)."""
    n = len(text)
    return any(n % size == 0 and text == text[:size] * (n // size) for size in range(1, 5))


def _sequential(text: str) -> bool:
    """True when every character is the one before it plus (or minus) one: ``12345``, ``cba``."""
    if len(text) < 3:
        return False
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1}) or text in "0123456789" * 3 or text in "9876543210" * 3


def _is_common(lowered: str) -> bool:
    common = common_passwords()
    core = _AFFIX.sub("", lowered)
    candidates = {lowered, lowered.translate(_UNSWAP), core, core.translate(_UNSWAP)}
    return any(c in common for c in candidates if c)


def check_password(password: str, username: str, min_length: int) -> None:
    """Refuse a password that breaks a rule (:class:`InvalidInput` naming ``password``)."""
    if len(password) < min_length:
        raise InvalidInput("password", HIDDEN, f"must be at least {min_length} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password", HIDDEN, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    name = username.strip().lower()
    if name and name in lowered:
        raise InvalidInput("password", HIDDEN, "must not contain the username")
    if _repeated_unit(lowered) or len(set(lowered)) < MIN_DISTINCT:
        raise InvalidInput("password", HIDDEN, "is too repetitive: use more different characters")
    if _sequential(lowered):
        raise InvalidInput("password", HIDDEN, "is a run of consecutive characters")
    if _is_common(lowered):
        raise InvalidInput(
            "password", HIDDEN, "is too common: it is on the list of guessed passwords"
        )
