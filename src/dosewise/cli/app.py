"""The Typer application and the entry point that turns user errors into one line and exit code 2.

Command groups live in sibling modules (``cli/design.py``, ``cli/clinical.py`` ...); each
registers its commands on :data:`app` when imported by :func:`main`.
"""

from __future__ import annotations

import importlib
import sys

import typer

from dosewise.errors import DosewiseError

app = typer.Typer(
    name="dosewise",
    help="Design, simulate and run BOIN12 / TITE-BOIN12 dose-finding trials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that register commands on `app`; a module that does not exist yet is skipped.
COMMAND_MODULES = (
    "dosewise.cli.design",
    "dosewise.cli.bop2",
    "dosewise.cli.protocol",
    "dosewise.cli.clinical",
    "dosewise.cli.simulate",
    "dosewise.cli.search",
    "dosewise.cli.trial",
    "dosewise.cli.trial_acts",
    "dosewise.cli.report",
)


def load_commands() -> typer.Typer:
    """Import every command module so that its commands are registered on :data:`app`."""
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return app


# Typer may vendor its own copy of Click: find its exception classes through Typer itself.
_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)

#: Options that take several values after one flag (``--n 0 3 6 9``); Click wants the flag
#: repeated, so :func:`expand_variadic` rewrites the arguments before parsing.
VARIADIC_OPTIONS = frozenset({"--n", "--p-tox", "--p-eff", "--looks", "--sizes"})


def _is_value(token: str) -> bool:
    """A token that is a value, not an option (negative numbers are values)."""
    if not token.startswith("-") or token == "-":
        return True
    return len(token) > 1 and (token[1].isdigit() or token[1] == ".")


def expand_variadic(argv: list[str]) -> list[str]:
    """Rewrite ``--n 0 3 6`` as ``--n 0 --n 3 --n 6`` for the options in VARIADIC_OPTIONS."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in VARIADIC_OPTIONS:
            i += 1
            values = []
            while i < len(argv) and _is_value(argv[i]):
                values.append(argv[i])
                i += 1
            if not values:
                out.append(token)
            for value in values:
                out += [token, value]
            continue
        if token == "--":
            out += argv[i:]
            break
        out.append(token)
        i += 1
    return out


def fail(message: str) -> None:
    """Print a one-line error to stderr and exit with code 2 (bad input)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors become ``error: field=value: rule`` on stderr and exit code 2."""
    for stream in (sys.stdout, sys.stderr):
        # Rich tables use box characters; never crash on an ASCII-only terminal.
        if hasattr(stream, "reconfigure") and "utf" not in (stream.encoding or "").lower():
            stream.reconfigure(errors="replace")
    load_commands()
    command = typer.main.get_command(app)
    args = expand_variadic(list(sys.argv[1:] if argv is None else argv))
    try:
        result = command.main(args=args, prog_name="dosewise", standalone_mode=False)
    except DosewiseError as exc:
        fail(exc.message)
    except _CLICK_ERROR as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            raise SystemExit(0) from None  # help was printed for a bare command group
        option = getattr(getattr(exc, "param", None), "opts", None)
        where = f"{option[0]}: " if option else ""
        fail(where + exc.format_message().replace("\n", " "))  # type: ignore[attr-defined]
    except OSError as exc:
        fail(f"{getattr(exc, 'filename', '') or 'file'}: {exc.strerror or exc}")
    except Exception as exc:
        if type(exc).__name__ == "Abort":
            fail("aborted")
        if type(exc).__name__ == "Exit":
            raise SystemExit(getattr(exc, "exit_code", 0)) from None
        raise
    if isinstance(result, int) and result:
        raise SystemExit(result)
