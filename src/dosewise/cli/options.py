"""Design options shared by every design command (``decide``, ``obd``, ``rds``, ``table``, ...).

``@with_design_options`` adds the same ``--doses --phi-t ... --tie-break --seed`` options to a
command and hands it a validated :class:`Boin12Params` as ``design``, so the options, their
defaults and their checks live in one place.
"""

import functools
import inspect
import json
from collections.abc import Callable
from typing import Annotated, Any

import typer

from dosewise.design.params import Boin12Params

_D = Boin12Params()

# (name, type, flag, default, help)
_OPTIONS: tuple[tuple[str, type, str, Any, str], ...] = (
    ("doses", int, "--doses", _D.n_doses, "Number of dose levels J."),
    ("phi_t", float, "--phi-t", _D.phi_t, "Highest acceptable DLT rate φT."),
    ("phi_e", float, "--phi-e", _D.phi_e, "Lowest acceptable response rate φE."),
    ("u11", float, "--u11", _D.u11, "Utility of toxicity with efficacy (u(0,1)=100, u(1,0)=0)."),
    ("u00", float, "--u00", _D.u00, "Utility of neither toxicity nor efficacy."),
    ("c_t", float, "--c-t", _D.c_t, "Toxicity elimination cut-off."),
    ("c_e", float, "--c-e", _D.c_e, "Futility elimination cut-off."),
    ("n_star", int, "--n-star", _D.n_star, "N*: no escalation from the stay zone at n >= N*."),
    ("n2", int, "--n2", _D.n2, "Extra dose exploration at n >= N2 (0 turns it off)."),
    ("cohort_size", int, "--cohort-size", _D.cohort_size, "Patients per cohort."),
    ("max_n", int, "--max-n", _D.max_n, "Maximum sample size."),
    ("n_earlystop", int, "--n-earlystop", _D.n_earlystop, "End when n at a dose reaches it."),
    ("start_dose", int, "--start-dose", _D.start_dose, "Starting dose (1-based)."),
    ("tie_break", str, "--tie-break", _D.tie_break, "Tie rule: random, higher or lower."),
)
_SEED = ("seed", "--seed", "Seed for the random tie-break (and simulations).")
DESIGN_OPTION_NAMES = (*(o[0] for o in _OPTIONS), _SEED[0])


def _parameters() -> list[inspect.Parameter]:
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=default,
            annotation=Annotated[kind, typer.Option(flag, help=text, rich_help_panel="Design")],
        )
        for name, kind, flag, default, text in _OPTIONS
    ]
    params.append(
        inspect.Parameter(
            _SEED[0],
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                int | None, typer.Option(_SEED[1], help=_SEED[2], rich_help_panel="Design")
            ],
        )
    )
    return params


def design_from_options(values: dict[str, Any], **overrides: Any) -> Boin12Params:
    """Build validated parameters from option values (names as in the CLI)."""
    fields = {k: values[k] for k in DESIGN_OPTION_NAMES if k in values}
    fields["n_doses"] = fields.pop("doses", _D.n_doses)
    fields.update(overrides)
    return Boin12Params(**fields)


def with_design_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared design options to a command; it receives ``design: Boin12Params``.

    A command that can only build the design once it knows more (``simulate`` takes the number
    of doses from its scenario) declares ``design_options`` instead and receives the raw option
    values, to build with :func:`design_from_options` itself.
    """
    signature = inspect.signature(func, eval_str=True)
    deferred = "design_options" in signature.parameters
    own = [p for p in signature.parameters.values() if p.name not in ("design", "design_options")]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        values = {k: kwargs.pop(k) for k in DESIGN_OPTION_NAMES}
        if deferred:
            return func(design_options=values, **kwargs)
        return func(design=design_from_options(values), **kwargs)

    params = own + _parameters()
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__
    return wrapper


def print_json(obj: Any) -> None:
    """Print exactly one JSON object on one line."""
    typer.echo(json.dumps(obj, ensure_ascii=False, allow_nan=False))
