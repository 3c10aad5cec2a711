"""Reasons as data (issue 16 item 1): codes, parameters and both catalogs.

Reasons of BOIN12 decisions, OBD selections, TITE-BOIN12 verdicts and BOP2 looks are collected
over random data, so every code in the catalog is shown to occur and to render.
"""

import random
import re

import numpy as np
import pytest

from dosewise.design.boin12 import Boin12
from dosewise.design.bop2 import Bop2Design, ToxicityMonitoring, bop2_decision, optimise_bop2
from dosewise.design.params import Boin12Params
from dosewise.design.reason_catalog import CHOICES, LANGS, MESSAGES
from dosewise.design.reasons import ReasonCode, Why, check_lang
from dosewise.design.tite import TiteBoin12, TitePatient
from dosewise.errors import InvalidParameter

#: Latin-letter words a Chinese reason may contain: symbols a statistician reads in both.
ALLOWED_LATIN = {"DLT", "OBD", "MTD", "Pr", "U", "N", "n", "e", "d", "T", "E", "p", "C"}


def test_every_code_has_both_catalog_entries() -> None:
    for code in ReasonCode:
        assert set(MESSAGES[str(code)]) == set(LANGS), code
    for name, entry in MESSAGES.items():
        assert set(entry) == set(LANGS), name
        assert name.startswith("_") or name in set(ReasonCode), name
    for name, words in CHOICES.items():
        for value, texts in words.items():
            assert set(texts) == set(LANGS), (name, value)


def test_both_languages_use_the_same_placeholders() -> None:
    for name, entry in MESSAGES.items():
        fields = {lang: set(re.findall(r"\{(\w+)", text)) for lang, text in entry.items()}
        assert fields["en"] == fields["zh"], name


def collect(n: int = 4000) -> dict[ReasonCode, list[Why]]:
    """Reasons of decide, obd and TITE over random histories, grouped by code."""
    rnd = random.Random(2)
    found: dict[ReasonCode, list[Why]] = {}
    for _ in range(n):
        n_doses = rnd.randint(1, 4)
        params = Boin12Params(
            n_doses=n_doses,
            phi_e=rnd.choice([0.25, 0.4]),
            c_e=rnd.choice([0.8, 0.9]),
            n_earlystop=rnd.choice([0, 9]),
            max_n=rnd.choice([9, 36]),
            tie_break=rnd.choice(["higher", "lower", "random"]),
            seed=1,
        )
        outcomes = " ".join(
            f"{rnd.randint(1, n_doses)}" + "".join(rnd.choices("NNETB", k=3))
            for _ in range(rnd.randint(0, 5))
        )
        model = Boin12(params)
        for why in (model.decide(outcomes).why, model.select_obd(outcomes).why):
            found.setdefault(why.code, []).append(why)
        patients = [
            TitePatient(
                rnd.randint(1, n_doses),
                float(rnd.choice([0, 5, 20, 45, 120])),
                dlt=rnd.random() < 0.3,
                response=rnd.random() < 0.3,
            )
            for _ in range(rnd.randint(1, 12))
        ]
        why = TiteBoin12(params).decide(patients, rng=np.random.default_rng(0)).why
        found.setdefault(why.code, []).append(why)
    tox = ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1)
    bop2 = optimise_bop2(Bop2Design(n_max=18, looks=(9, 18), p0=0.2, p1=0.4, toxicity=tox))
    for n in (9, 12, 18):
        for responses in range(0, n + 1, 2):
            for toxicities in range(0, n + 1, 2):
                why = bop2_decision(bop2, n, responses, toxicities).why
                found.setdefault(why.code, []).append(why)
    return found


FOUND = collect()


def test_every_code_occurs_and_renders_in_both_languages() -> None:
    assert set(FOUND) == set(ReasonCode)
    for code, whys in FOUND.items():
        for why in whys[:50]:
            en, zh = why.text("en"), why.text("zh")
            assert en and zh and en != zh, code
            assert "{" not in en + zh and "}" not in en + zh, code


def test_chinese_reasons_have_no_english_words() -> None:
    for code, whys in FOUND.items():
        for why in whys[:200]:
            text = why.text("zh")
            words = set(re.findall(r"[A-Za-z]+", text))
            assert words <= ALLOWED_LATIN, (code, words - ALLOWED_LATIN, text)


def test_params_are_json_values_with_one_based_doses() -> None:
    for code, whys in FOUND.items():
        for why in whys[:50]:
            params = why.params_dict()
            for key in ("dose", "current", "mtd", "obd"):
                if key in params:
                    assert isinstance(params[key], int) and params[key] >= 1, (code, key)
            for key in ("candidates", "tied"):
                if key in params:
                    assert all(d >= 1 for d in params[key]), (code, key)


def test_the_example_reason_as_data() -> None:
    decision = Boin12(Boin12Params(n_doses=3)).decide("1NNE 2TBN")
    assert decision.reason_code == ReasonCode.DEESCALATE
    assert decision.reason_params == {
        "current": 2,
        "dlt": 2,
        "n": 3,
        "p_hat": pytest.approx(2 / 3),
        "dose": 1,
        "lambda_d": pytest.approx(0.4189075, abs=1e-7),
    }
    assert decision.reason == (
        "De-escalate to dose 1: DLT rate at dose 2 is 2/3 = 0.667 >= λd = 0.419; dose 1 is the "
        "highest eligible lower dose."
    )
    assert decision.why.text("zh") == (
        "降至剂量 1：剂量 2 的 DLT 率为 2/3 = 0.667 ≥ λd = 0.419；剂量 1 是可用的最高较低剂量。"
    )
    data = decision.to_dict("zh")
    assert data["reason"] == decision.why.text("zh")
    assert data["reason_code"] == "deescalate" and data["reason_params"]["dose"] == 1


def test_a_tie_renders_in_both_languages() -> None:
    decision = Boin12(Boin12Params(n_doses=3, start_dose=2, tie_break="higher")).decide("2NNN")
    assert decision.tied == (1, 3)
    assert decision.reason.endswith("Tie between doses [1, 3] broken by the 'higher' rule.")
    assert decision.why.text("zh").endswith("剂量 1、3 并列，按“取较高剂量”规则选定。")


def test_unknown_language_is_refused() -> None:
    assert check_lang("zh") == "zh"
    with pytest.raises(InvalidParameter, match="lang"):
        check_lang("fr")
    with pytest.raises(InvalidParameter, match="lang"):
        Boin12(Boin12Params()).decide("").to_dict("de")


def test_bop2_reason_as_data() -> None:
    tox = ToxicityMonitoring(phi_t0=0.3, phi_t1=0.1)
    result = optimise_bop2(Bop2Design(n_max=18, looks=(9, 18), p0=0.2, p1=0.4, toxicity=tox))
    decision = bop2_decision(result, 9, 0, 9)
    assert decision.why.code == ReasonCode.BOP2_FUTILITY_TOXICITY
    assert decision.reason.startswith("futility: Pr(p_E <= 0.2 | data) = ")
    assert "; toxicity: Pr(p_T > 0.3 | data) = " in decision.reason
    assert decision.why.text("zh").startswith("无效：Pr(p_E ≤ 0.2 | 数据) = ")
    assert decision.why.params_dict()["n"] == 9
