"""The design core agrees with itself (issue 13 item 4): decide, obd and TITE never contradict.

``obd`` on a history whose decision is a stop without an OBD gives no OBD, with the decision's
reason; reasons name 1-based doses ("dose 0" never appears); TITE-BOIN12 answers a stop or
"accrual complete", never "the next patient must wait", once no further patient can change
the outcome.
"""

import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.cli.app import main
from dosewise.design.boin12 import Boin12
from dosewise.design.params import Boin12Params
from dosewise.design.tite import TiteBoin12, TitePatient

LETTERS = "NNETB"

PARAMS = st.builds(
    Boin12Params,
    n_doses=st.integers(1, 5),
    phi_t=st.sampled_from([0.25, 0.3, 0.35]),
    phi_e=st.sampled_from([0.2, 0.25, 0.4]),
    n_star=st.sampled_from([3, 6]),
    n2=st.sampled_from([0, 9]),
    n_earlystop=st.sampled_from([0, 9, 12]),
    max_n=st.sampled_from([12, 60]),
    tie_break=st.sampled_from(["higher", "lower", "random"]),
    seed=st.just(11),
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[Boin12Params, str]:
    params = draw(PARAMS)
    cohorts = []
    for _ in range(draw(st.integers(0, 8))):
        dose = draw(st.integers(1, params.n_doses))
        letters = draw(st.text(alphabet=LETTERS, min_size=1, max_size=4))
        cohorts.append(f"{dose}{letters}")
    return params, " ".join(cohorts)


def check_agreement(params: Boin12Params, outcomes: str) -> None:
    """decide and obd on the same history, each with the generator the CLI gives it."""
    model = Boin12(params)
    decision = model.decide(outcomes, rng=np.random.default_rng(params.seed))
    obd = model.select_obd(outcomes, rng=np.random.default_rng(params.seed))
    if decision.stop and not decision.select_obd:
        assert obd.obd is None, (outcomes, decision.reason, obd.reason)
        assert obd.reason == decision.reason
        assert obd.why == decision.why
    if decision.select_obd:
        assert decision.obd is not None and decision.obd.obd == obd.obd
        assert decision.obd.reason == obd.reason
    assert "dose 0" not in decision.reason and "dose 0" not in obd.reason
    for lang in ("en", "zh"):
        assert "剂量 0" not in decision.why.text(lang) + obd.why.text(lang)


@settings(max_examples=400, deadline=None)
@given(histories())
def test_decide_and_obd_never_contradict(case: tuple[Boin12Params, str]) -> None:
    check_agreement(*case)


def test_the_reported_history_has_no_obd() -> None:
    """Issue 13: `2NEE 1NNNNNNTTT` (3 doses) stops at a futile dose 1; obd named dose 2."""
    model = Boin12(Boin12Params(n_doses=3))
    decision = model.decide("2NEE 1NNNNNNTTT")
    assert decision.rule == "STOP_CHOSEN_ELIMINATED"
    assert decision.reason == (
        "Stop, no OBD: the candidate with the highest desirability, dose 1, is eliminated."
    )
    assert decision.reason_params == {"dose": 1}
    obd = model.select_obd("2NEE 1NNNNNNTTT")
    assert obd.obd is None and obd.reason == decision.reason
    check_agreement(Boin12Params(n_doses=3), "2NEE 1NNNNNNTTT")


def test_every_stop_kind_agrees() -> None:
    """One history per stop without an OBD (§4 a-d): obd returns null with that reason."""
    cases = {
        "STOP_LOWEST_TOXIC": (Boin12Params(n_doses=3), "1TTT 1TNN"),
        "STOP_ALL_ELIMINATED": (Boin12Params(n_doses=1, phi_e=0.4, c_e=0.8), "1NNN 1NNN"),
        "STOP_NO_LOWER_ELIMINATED": (Boin12Params(n_doses=2, phi_e=0.4, c_e=0.8), "1NTT"),
        "STOP_CHOSEN_ELIMINATED": (Boin12Params(n_doses=3), "2NEE 1NNNNNNTTT"),
    }
    for rule, (params, outcomes) in cases.items():
        decision = Boin12(params).decide(outcomes)
        assert decision.rule == rule, (rule, decision.reason)
        check_agreement(params, outcomes)


def test_no_dose_zero_over_many_histories() -> None:
    """decide, obd and TITE reasons over 3,000 random histories never say "dose 0"."""
    rnd = random.Random(13)
    for _ in range(3000):
        n_doses = rnd.randint(1, 5)
        params = Boin12Params(
            n_doses=n_doses,
            start_dose=rnd.randint(1, n_doses),
            phi_e=rnd.choice([0.25, 0.4]),
            n_earlystop=rnd.choice([0, 9, 12]),
            max_n=rnd.choice([12, 36]),
            tie_break=rnd.choice(["higher", "lower", "random"]),
            seed=3,
        )
        cohorts = [
            f"{rnd.randint(1, n_doses)}" + "".join(rnd.choices(LETTERS, k=rnd.randint(1, 4)))
            for _ in range(rnd.randint(0, 8))
        ]
        check_agreement(params, " ".join(cohorts))
        patients = [
            TitePatient(
                rnd.randint(1, n_doses),
                float(rnd.choice([0, 5, 14, 27, 28, 45, 89, 120])),
                dlt=rnd.random() < 0.3,
                response=rnd.random() < 0.3,
            )
            for _ in range(rnd.randint(0, 14))
        ]
        tite = TiteBoin12(params).decide(patients, rng=np.random.default_rng(1))
        for lang in ("en", "zh"):
            text = tite.why.text(lang)
            assert "dose 0" not in text and "剂量 0" not in text, text


@pytest.mark.parametrize(
    ("doses", "outcomes"),
    [("3", "2NEE 1NNNNNNTTT"), ("3", "1TTT 1TNN"), ("5", "1NNE 2TBN 3NEE 3NNN"), ("3", "")],
)
def test_cli_decide_and_obd_agree(
    doses: str, outcomes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["decide", "--doses", doses, "--outcomes", outcomes, "--json"])
    decided = json.loads(capsys.readouterr().out)
    main(["obd", "--doses", doses, "--outcomes", outcomes, "--json"])
    selected = json.loads(capsys.readouterr().out)
    if decided["stop"] and not decided["select_obd"]:
        assert selected["obd"] is None
        assert selected["reason"] == decided["reason"]
        assert selected["reason_code"] == decided["reason_code"]
    assert "dose 0" not in decided["reason"] + selected["reason"]


def test_cli_outcomes_file_agrees_line_by_line(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """With random ties and many lines, decide and obd draw the same numbers per line."""
    rnd = random.Random(5)
    lines = [
        " ".join(
            f"{rnd.randint(1, 3)}" + "".join(rnd.choices(LETTERS, k=3))
            for _ in range(rnd.randint(1, 6))
        )
        for _ in range(200)
    ]
    path = tmp_path / "histories.txt"  # type: ignore[operator]
    path.write_text("\n".join(lines))
    main(["decide", "--doses", "3", "--seed", "4", "--outcomes-file", str(path)])
    decided = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    main(["obd", "--doses", "3", "--seed", "4", "--outcomes-file", str(path)])
    selected = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    stops = 0
    for d, o in zip(decided, selected, strict=True):
        if d["stop"] and not d["select_obd"]:
            stops += 1
            assert o["obd"] is None and o["reason"] == d["reason"]
        elif d["select_obd"]:
            assert o["obd"] == d["obd"]
    assert stops > 0
