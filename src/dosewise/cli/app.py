"""The Typer application and the entry point that turns user errors into one line and exit code 2.

Command groups live in sibling modules (``cli/design.py``, ``cli/clinical.py`` ...); each
registers its commands on :data:`app` when imported. :func:`main` imports only the module of the
command it runs (:data:`COMMANDS`), so ``dosewise decide`` starts without loading SQLAlchemy,
FastAPI, WeasyPrint or Matplotlib; ``dosewise --help`` (or an unknown command) imports them all
so the listing stays complete.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from dosewise.cli import language
from dosewise.errors import DosewiseError

app = typer.Typer(
    name="dosewise",
    help="Design, simulate and run BOIN12 / TITE-BOIN12 dose-finding trials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=(
                "Language of the messages of every command, errors included: en or zh "
                f"(default: ${language.ENV}, else en). A command's own --lang wins; "
                "JSON keys stay the same."
            ),
        ),
    ] = None,
) -> None:
    """Design, simulate and run BOIN12 / TITE-BOIN12 dose-finding trials."""
    if lang is not None:
        language.choose(lang)


#: Each top-level command (or command group) and the module that registers it on `app`; a
#: test checks this against what the modules register.
COMMANDS: dict[str, str] = {
    **dict.fromkeys(
        ("boundaries", "rds", "decide", "obd", "decide-tite", "table", "demo"),
        "dosewise.cli.design",
    ),
    "bop2": "dosewise.cli.bop2",
    **dict.fromkeys(("screen", "consent", "protocol"), "dosewise.cli.protocol"),
    **dict.fromkeys(("dose", "dlt", "bor", "visits", "ae-terms", "grade"), "dosewise.cli.clinical"),
    **dict.fromkeys(("simulate", "scenarios"), "dosewise.cli.simulate"),
    "search": "dosewise.cli.search",
    **dict.fromkeys(("serve", "db", "user", "audit"), "dosewise.cli.trial"),
    **dict.fromkeys(("demo-data", "arm"), "dosewise.cli.trial_acts"),
    "report": "dosewise.cli.report",
    "worklist": "dosewise.cli.worklist",
}

#: Modules that register commands on `app`, in the order of ``dosewise --help``.
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


def _import(name: str) -> None:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:  # a module that does not exist yet is skipped
        if exc.name != name:
            raise


def load_commands(argv: list[str] | None = None) -> typer.Typer:
    """Register the command that ``argv`` runs, or every command when it names none we know."""
    if argv and argv[0] in COMMANDS:
        _import(COMMANDS[argv[0]])
        return app
    for module in COMMAND_MODULES:
        _import(module)
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


#: Commands that run until stopped (a server): they keep Python's garbage-collector settings.
LONG_RUNNING = frozenset({"serve"})

#: The garbage collector's young-generation threshold during one command (Python's default is
#: 700 new objects). A report creates millions of objects (imports, ORM rows, layout boxes) and
#: frees most of them by reference counting; at the default the collector ran about 1,100 times
#: in one DSMB report, a fifth of its CPU time, and found little. Cycles are still collected.
GC_THRESHOLD = (50_000, 20, 20)


@contextmanager
def fewer_collections(args: list[str], *, ending: bool = False) -> Iterator[None]:
    """Collect cycles less often while one command runs (not for a server); restored after.

    ``ending``: the process ends with the command (the console script). Everything alive is then
    frozen (:func:`quick_exit`) before the default thresholds come back: the young generation
    holds tens of thousands of objects by then, so the next allocation would start a collection
    of the two younger generations over what the command built (0.13 s after a DSMB report) just
    before the process exits.
    """
    if args and args[0] in LONG_RUNNING:
        yield
        return
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        if ending:
            quick_exit()
        gc.set_threshold(*before)


def fail(message: str) -> None:
    """Print a one-line error to stderr and exit with code 2 (bad input).

    The line starts ``error: `` (``错误：`` when the run's language is Chinese).
    """
    print(f"{language.ERROR_PREFIX[language.cli_lang()]}{message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors become ``error: field=value: rule`` on stderr and exit code 2."""
    for stream in (sys.stdout, sys.stderr):
        # Rich tables use box characters; never crash on an ASCII-only terminal.
        if hasattr(stream, "reconfigure") and "utf" not in (stream.encoding or "").lower():
            stream.reconfigure(errors="replace")
    args = expand_variadic(list(sys.argv[1:] if argv is None else argv))
    root_lang, args = language.split_root(args)
    try:
        language.choose(None)
        try:
            language.env_lang()
            language.choose(root_lang)
        except DosewiseError as exc:
            fail(exc.message)
        with fewer_collections(args, ending=argv is None):
            result = _run(args)
    finally:
        language.choose(None)
        if argv is None:  # the process ends now (the console script): see quick_exit
            quick_exit()
    if isinstance(result, int) and result:
        raise SystemExit(result)


def quick_exit() -> None:
    """Spare the interpreter's last garbage collection over everything a command built.

    At exit Python collects cycles among every object still alive: about half a second after a
    report. Frozen objects are left to the operating system; exit handlers still run and files
    are still flushed. Only for a process that ends with the command (not a test calling main).
    """
    gc.freeze()


def _run(args: list[str]) -> object:
    """Import the command, run it, and turn user errors into one line and exit code 2."""
    load_commands(args)
    command = typer.main.get_group(app)
    try:
        return command.main(args=args, prog_name="dosewise", standalone_mode=False)
    except DosewiseError as exc:
        fail(language.error_line(exc))
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
    return None
