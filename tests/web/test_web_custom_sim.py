"""Simulating one's own scenario on the protocol page (issue 17 item 7): every field checked at
once with errors naming the field, a background run with a progress bar (htmx polling), and a
JSON download equal to ``dosewise simulate``'s for the same seed."""

from __future__ import annotations

import html as htmllib
import json
import re
import shlex
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dosewise.cli.app import main
from dosewise.protocol import default_protocol
from dosewise.web import custom_sim as cs

PROTOCOL = default_protocol()
FORM = {
    "scenario_arm": "autologous",
    "p_tox_1": "0.1",
    "p_tox_2": "0.3",
    "p_eff_1": "0.3",
    "p_eff_2": "0.55",
    "correlation": "gumbel",
    "rho": "0.2",
    "scenario_trials": "400",
    "scenario_seed": "99",
}
HX = {"HX-Request": "true"}


def _cli_json(command: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    """Run the command the page shows, as ``dosewise`` would (its one line of JSON)."""
    args = shlex.split(htmllib.unescape(command))
    assert args[:2] == ["dosewise", "simulate"]
    capsys.readouterr()
    try:
        main(args[1:])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    (line,) = capsys.readouterr().out.strip().splitlines()
    return dict(json.loads(line))


def _wait(client: TestClient, html: str) -> str:
    for _ in range(600):
        match = re.search(r'hx-get="(/protocol/simulate-custom/[^"]+)"', html)
        if not match:
            return html
        assert "<progress" in html
        time.sleep(0.05)
        html = client.get(match.group(1)).text
    raise AssertionError("the simulation did not finish")


def test_a_custom_scenario_gives_the_clis_json(
    client: TestClient, signed_in: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    csrf = signed_in("stat")
    page = client.get("/protocol").text
    assert 'id="custom-simulation"' in page and 'name="p_tox_2"' in page
    r = client.post("/protocol/simulate-custom", data={**FORM, "csrf_token": csrf}, headers=HX)
    assert r.status_code == 200, r.text
    html = _wait(client, r.text)
    assert 'id="custom-table"' in html
    link = re.search(r'href="(/protocol/simulate-custom/[^"]+/json)"', html)
    assert link, html
    download = client.get(link.group(1))
    assert download.headers["content-disposition"].startswith("attachment")
    mine = json.loads(download.text)
    command = re.search(r"<pre>(dosewise simulate [^<]+)</pre>", html)
    assert command, html
    theirs = _cli_json(command.group(1), capsys)
    assert mine.pop("seconds") >= 0 and theirs.pop("seconds") >= 0
    assert mine == theirs
    assert mine["trials"] == 400 and mine["seed"] == 99
    assert mine["truth"]["p_tox"] == {"1": 0.1, "2": 0.3}
    assert mine["setting"]["correlation"] == {"model": "gumbel", "value": 0.2}
    assert mine["setting"]["tox_window"] == 28.0  # the protocol's DLT window


def test_every_wrong_field_is_named_at_once(
    client: TestClient, signed_in: Callable[..., str]
) -> None:
    csrf = signed_in("stat")
    bad = {
        **FORM,
        "p_tox_2": "1.3",
        "p_eff_1": "x",
        "scenario_trials": "20000",
        "correlation": "copula",
    }
    r = client.post("/protocol/simulate-custom", data={**bad, "csrf_token": csrf})
    assert r.status_code == 422 and "p_tox_2-error" in r.text  # a plain post: the whole page
    r = client.post("/protocol/simulate-custom", data={**bad, "csrf_token": csrf}, headers=HX)
    assert r.status_code == 200  # htmx swaps only 2xx answers: the form with its errors
    for name in ("p_tox_2", "p_eff_1", "scenario_trials", "correlation"):
        assert re.search(rf'id="{name}-error"', r.text) or f"{name}-error" in r.text, name
    assert "must be a probability from 0 to 1" in r.text
    assert "must be from 1 to 10000" in r.text
    assert "<progress" not in r.text
    # The form comes back with what was typed, the arm still chosen among the protocol's arms.
    assert re.search(r'<option value="autologous"[^>]*selected', r.text), r.text
    r = client.post(
        "/protocol/simulate-custom",
        data={**FORM, "correlation": "independent", "csrf_token": csrf},
        headers=HX,
    )
    assert "needs a correlation model" in r.text


def test_only_roles_the_access_table_allows(
    client: TestClient, signed_in: Callable[..., str]
) -> None:
    csrf = signed_in("coord1")
    assert 'id="custom-simulation"' not in client.get("/protocol").text
    r = client.post("/protocol/simulate-custom", data={**FORM, "csrf_token": csrf}, headers=HX)
    assert r.status_code == 403


def test_a_plain_post_runs_in_the_request(
    client: TestClient, signed_in: Callable[..., str]
) -> None:
    csrf = signed_in("inv1")
    r = client.post(
        "/protocol/simulate-custom", data={**FORM, "scenario_trials": "50", "csrf_token": csrf}
    )
    assert r.status_code == 200 and 'id="custom-table"' in r.text and "<progress" not in r.text


def test_the_command_reproduces_the_arm_design() -> None:
    req, problems = cs.check_request(PROTOCOL, cs.form_getter(lambda k: FORM.get(k, "")), False)
    assert req is not None and not problems
    args = cs.cli_args(PROTOCOL, req)
    assert args is not None
    assert args[args.index("--max-n") + 1] == "12" and args[args.index("--doses") + 1] == "2"
    assert args[args.index("--tox-window") + 1] == "28.0"


def test_the_chinese_section_and_progress_have_no_english_words(
    client: TestClient, signed_in: Callable[..., str]
) -> None:
    csrf = signed_in("stat")
    client.cookies.set("dosewise_lang", "zh_CN")
    page = client.get("/protocol").text
    start = page.index(">", page.index('id="custom-simulation"')) + 1
    section = page[start : page.index("</form>", start)]
    r = client.post(
        "/protocol/simulate-custom",
        data={**FORM, "scenario_trials": "10000", "csrf_token": csrf},
        headers=HX,
    )
    progress = r.text[r.text.index("</form>") :]
    assert "<progress" in progress or 'id="custom-table"' in progress
    result = re.sub(r"<pre>.*?</pre>", " ", _wait(client, r.text), flags=re.S)  # the command
    for html in (section, progress, result):
        html = re.sub(r"<(option|input|select|form|button|div|label|p|progress)\b[^>]*>", " ", html)
        text = re.sub(r"<[^>]+>|φ[TE]|\bDL-?\d\b|TITE-BOIN12", " ", htmllib.unescape(html))
        words = set(re.findall(r"[A-Za-z][A-Za-z0-9-]*", text))
        # The arms' names are the protocol's own Chinese labels (the product "CD5 CAR-T").
        # "OC" (operating characteristics) is the existing heading's abbreviation.
        assert words <= {"DLT", "OBD", "OC", "BOIN12", "CD5", "CAR-T", "SCT"}, words
