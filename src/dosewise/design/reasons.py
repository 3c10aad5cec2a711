"""Reasons as data: a stable code and its parameters, rendered in English or Chinese.

Every design answer (a BOIN12 decision, an OBD selection, a TITE-BOIN12 verdict, a BOP2 look)
carries a
:class:`Why`: its :class:`ReasonCode` and the numbers behind it (doses 1-based), e.g.
``Why(ReasonCode.DEESCALATE, {"dose": 2, "current": 3, "dlt": 2, "n": 3, "p_hat": 0.667,
"lambda_d": 0.419})``. The words come from :mod:`dosewise.design.reason_catalog`, so the CLI,
the API, the web pages and the reports show the same reason in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dosewise.design.reason_catalog import (
    CHOICES,
    DOSE_SEPARATORS,
    LANGS,
    MESSAGES,
    SEPARATORS,
    Lang,
)
from dosewise.errors import InvalidParameter

#: A parameter value: a number, a word from ``CHOICES``, or a tuple of doses or values.
Param = int | float | str | tuple[int, ...] | tuple[float, ...]


class ReasonCode(StrEnum):
    """The stable codes of design reasons (the message catalog has one entry per code)."""

    START = "start"
    DEESCALATE = "deescalate"
    STAY_NO_LOWER = "stay_no_lower"
    HIGHEST_DESIRABILITY = "highest_desirability"
    EXPLORE = "explore"
    STOP_LOWEST_TOXIC = "stop_lowest_toxic"
    STOP_ALL_ELIMINATED = "stop_all_eliminated"
    STOP_NO_LOWER_ELIMINATED = "stop_no_lower_eliminated"
    STOP_CHOSEN_ELIMINATED = "stop_chosen_eliminated"
    END_EARLYSTOP = "end_earlystop"
    END_MAX_N = "end_max_n"
    OBD_SELECTED = "obd_selected"
    OBD_NONE = "obd_none"
    TITE_SUSPEND = "tite_suspend"
    TITE_COMPLETE_EARLYSTOP = "tite_complete_earlystop"
    TITE_COMPLETE_MAX_N = "tite_complete_max_n"
    BOP2_CONTINUE = "bop2_continue"
    BOP2_FUTILITY = "bop2_futility"
    BOP2_TOXICITY = "bop2_toxicity"
    BOP2_FUTILITY_TOXICITY = "bop2_futility_toxicity"


def check_lang(lang: str) -> Lang:
    """``lang`` as a catalog language, or an error naming the field and the rule."""
    if lang == "en":
        return "en"
    if lang == "zh":
        return "zh"
    raise InvalidParameter("lang", lang, f"must be one of {', '.join(LANGS)}")


@dataclass(frozen=True, slots=True)
class Why:
    """Why the design answered as it did: a :class:`ReasonCode` and its parameters."""

    code: ReasonCode
    params: Mapping[str, Param]

    def text(self, lang: str = "en") -> str:
        """The reason in words, in ``lang`` ("en" or "zh")."""
        return render(self.code, self.params, check_lang(lang))

    def params_dict(self) -> dict[str, Any]:
        """The parameters as JSON values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()}


def _doses(values: Param, lang: Lang) -> str:
    items = list(values) if isinstance(values, tuple) else [values]
    if lang == "en":
        return str(items)
    return DOSE_SEPARATORS[lang].join(str(v) for v in items)


def _fragment(name: str, lang: Lang, context: Mapping[str, Any]) -> str:
    return MESSAGES[name][lang].format(**context)


def render(code: str, params: Mapping[str, Param], lang: Lang) -> str:
    """Fill the catalog template of ``code`` in ``lang`` from ``params``."""
    context: dict[str, Any] = dict(params)
    raw: Any = params  # the untranslated values (numbers are checked by the format specs)
    for name, words in CHOICES.items():
        if name in params:
            context[name] = words[str(params[name])][lang]
    if "p_hat" in params:
        context["rate"] = _fragment("_rate_ess" if "ess" in params else "_rate", lang, context)
    if code == ReasonCode.HIGHEST_DESIRABILITY:
        context["u_b_prob"] = float(raw["u_b"]) / 100.0
        candidates = params["candidates"]
        assert isinstance(candidates, tuple)
        context["values"] = SEPARATORS[lang].join(
            _fragment("_value", lang, {"dose": d, "value": v})
            for d, v in zip(candidates, raw["values"], strict=True)
        )
        context["candidates"] = _doses(candidates, lang)
        stay_capped = raw["zone"] == "stay" and raw["n"] >= raw["n_star"]
        context["no_escalation"] = _fragment("_no_escalation", lang, context) if stay_capped else ""
        tied = params.get("tied", ())
        context["tie"] = (
            _fragment("_tie", lang, {**context, "tied": _doses(tied, lang)}) if tied else ""
        )
    return MESSAGES[str(code)][lang].format(**context)
