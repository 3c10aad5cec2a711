"""The language of the CLI's words: ``dosewise --lang zh <command>`` or ``DOSEWISE_LANG=zh``.

English stays the default. The choice reaches every command's error line (a refusal's code
rendered by :func:`dosewise.trial.state.reasons.error_line`, the renderer the API and the web
use) and is the default of the commands' own ``--lang`` (``decide``, ``obd``, ``decide-tite``,
reports), which still win when given. JSON keys never change with the language.

This module imports nothing heavy: ``dosewise decide`` must start without the database stack;
the renderer is imported only to print a Chinese error line.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dosewise.errors import DosewiseError

#: The environment variable that chooses the language when ``--lang`` is not given.
ENV = "DOSEWISE_LANG"
LANGS: tuple[str, ...] = ("en", "zh")
#: The prefix of an error line on stderr, in each language.
ERROR_PREFIX: dict[str, str] = {"en": "error: ", "zh": "错误："}

_chosen: list[str] = []


def check(lang: str, field: str = "lang") -> str:
    """``lang`` if it is a CLI language, else an error naming ``field`` (exit code 2)."""
    if lang not in LANGS:
        from dosewise.errors import InvalidParameter

        raise InvalidParameter(field, lang, f"must be one of {', '.join(LANGS)}")
    return lang


def choose(lang: str | None) -> None:
    """Choose the language for this run (None: back to ``DOSEWISE_LANG`` or English)."""
    _chosen.clear()
    if lang is not None:
        _chosen.append(check(lang))


def env_lang() -> str | None:
    """``DOSEWISE_LANG`` if set (checked), else None."""
    value = os.environ.get(ENV, "").strip()
    return check(value, ENV) if value else None


def cli_lang() -> str:
    """The language chosen for this run: ``--lang``, else ``DOSEWISE_LANG``, else English.

    Never raises: a wrong ``DOSEWISE_LANG`` is refused by :func:`dosewise.cli.app.main` before
    any command runs, and reads as English here.
    """
    if _chosen:
        return _chosen[0]
    value = os.environ.get(ENV, "").strip()
    return value if value in LANGS else "en"


def resolve(lang: str | None) -> str:
    """A command's own ``--lang`` if given, else the run's language."""
    return cli_lang() if lang is None else lang


def split_root(args: list[str]) -> tuple[str | None, list[str]]:
    """The root ``--lang`` value given before the command (``--lang zh`` or ``--lang=zh``),
    and the arguments without it (so the command is found and imported alone)."""
    lang: str | None = None
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--lang" and i + 1 < len(args):
            lang = args[i + 1]
            i += 2
        elif token.startswith("--lang="):
            lang = token.split("=", 1)[1]
            i += 1
        else:
            break
    return lang, args[i:]


def error_line(exc: DosewiseError, lang: str | None = None) -> str:
    """A user error as one line in the run's language (English: the error's own message)."""
    chosen = lang or cli_lang()
    if chosen == "en":
        return exc.message
    from dosewise.trial.state.reasons import error_line as render

    return render(exc, chosen)


def error_fields(exc: DosewiseError, lang: str | None = None) -> dict[str, object]:
    """What a JSON error object adds for a refusal with a code: ``reason`` in the run's
    language, ``reason_code`` and ``reason_params`` (nothing for an error without a code)."""
    if not exc.reason_code:
        return {}
    from dosewise.trial.state.reasons import error_reason

    reason = error_reason(exc, lang or cli_lang())
    if reason is None:
        return {}
    return {"reason": reason, "reason_code": exc.reason_code, "reason_params": exc.reason_params}
