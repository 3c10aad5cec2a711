"""In Chromium (issue 17 items 3 and 7): the arm page's statistician views — the dose
trajectory, the posterior intervals and, once dose finding has ended, the OBD utility table — and
the forms that follow on a database of their own (seed_obd.py): phase 1 closure (signed), the
BOP2 interim look and taking a participant off study; and on the protocol page a custom scenario
that simulates with a progress bar, whose downloaded JSON equals ``dosewise simulate``'s."""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from e2e_helpers import sign_in
from e2e_server import serve
from playwright.sync_api import Page, expect
from seed_obd import ARM, end_of_phase_1

from dosewise.cli.app import main
from pg import PASSWORD, make_settings, populate


@pytest.fixture(scope="module")
def obd_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A server over a database where the new-donor arm's dose finding has ended."""
    root = Path(tempfile.mkdtemp(prefix="dosewise-e2e-obd."))
    url = f"sqlite:///{root / 'obd.db'}"
    populate(url)
    participants = end_of_phase_1(make_settings(url))
    with serve(url) as base:
        yield base, participants
    shutil.rmtree(root, ignore_errors=True)


def test_the_arm_page_closes_phase_1_and_runs_the_bop2_look(
    page: Page, obd_server: tuple[str, list[tuple[str, str]]]
) -> None:
    base, participants = obd_server
    sign_in(page, "stat", base=base)
    page.goto(f"{base}/trial/arms/{ARM}")
    expect(page.locator("#trajectory-chart img")).to_be_visible()
    expect(page.locator("#posterior-chart img")).to_be_visible()
    expect(page.locator("#trajectory tbody tr")).to_have_count(len(participants))
    expect(page.locator("#posteriors tbody tr")).to_have_count(2)
    utility = page.locator("#utility")
    expect(utility).to_be_visible()
    expect(page.locator("#utility-h + p")).to_contain_text("to be recorded when phase 1 is closed")
    chosen = page.locator("#utility tr.current").get_attribute("data-dose")
    assert chosen is not None

    page.get_by_label("Re-enter your password to sign").fill("not the password")
    page.get_by_role("button", name="Sign and close phase 1").click()
    expect(page.locator(".field-error, .alert.error").first).to_be_visible()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign and close phase 1").click()
    expect(page.get_by_text("Phase 1 is closed.")).to_be_visible()
    expect(page.locator("#utility-h + p")).to_contain_text("recorded when phase 1 was closed")
    expect(page.locator("#utility tr.current")).to_have_attribute("data-dose", chosen)

    page.get_by_role("button", name="Run the BOP2 interim look").click()
    expect(page.get_by_text("The interim look is recorded.")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("BOP2 look 1")


def test_a_participant_is_taken_off_study_through_the_form(
    page: Page, obd_server: tuple[str, list[tuple[str, str]]]
) -> None:
    base, participants = obd_server
    sid = next(s for s, site in participants if site == "S01")
    sign_in(page, "coord1", base=base)
    page.goto(f"{base}/participants/{sid}")
    section = page.locator("#off_study")
    section.get_by_text("Record that the participant left the study").click()
    section.get_by_label("Date").fill(date.today().isoformat())
    section.get_by_label("Why").select_option("withdrawal")
    section.get_by_role("button", name="Take off study").click()  # the details are required:
    expect(section.locator("textarea:invalid")).to_have_count(1)  # the browser does not send it
    expect(page.get_by_text("withdrew consent by phone")).to_have_count(0)
    page.locator("#off_study").get_by_label("Details").fill("withdrew consent by phone")
    page.locator("#off_study").get_by_role("button", name="Take off study").click()
    expect(page.locator("#off_study")).to_have_count(0)  # the form is gone: nothing to repeat
    expect(page.locator("dl dd").filter(has_text="withdrew consent by phone")).to_be_visible()


def test_a_custom_scenario_simulates_with_progress_and_the_clis_json(
    page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in(page, "stat")
    page.goto("/protocol")
    form = page.locator("#custom-sim form")
    form.get_by_label("Arm").select_option("autologous")
    for label, value in (
        ("True DLT rate at DL1", "0.08"),
        ("True DLT rate at DL2", "0.25"),
        ("True response rate at DL1", "0.3"),
        ("True response rate at DL2", "0.5"),
    ):
        form.get_by_label(label).fill(value)
    form.get_by_label("True DLT rate at DL2").fill("1.5")  # refused, with the field named
    form.get_by_role("button", name="Simulate my scenario").click()
    expect(page.locator("#p_tox_2-error")).to_contain_text("must be a probability from 0 to 1")
    form = page.locator("#custom-sim form")
    form.get_by_label("True DLT rate at DL2").fill("0.25")
    form.get_by_label("Association of DLT and response").select_option("odds_ratio")
    form.get_by_label("Association parameter (optional)").fill("2")
    form.get_by_label("Simulated trials").fill("10000")
    form.get_by_label("Seed").fill("4242")
    form.get_by_role("button", name="Simulate my scenario").click()
    expect(page.locator("#custom-progress-bar")).to_be_visible()
    expect(page.locator("#custom-table")).to_be_visible(timeout=120_000)
    with page.expect_download() as info:
        page.locator("#custom-json").click()
    mine = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    command = page.locator("#custom-command pre").text_content() or ""
    args = shlex.split(command)
    assert args[:2] == ["dosewise", "simulate"] and "--seed" in args
    capsys.readouterr()
    main(args[1:])
    theirs = json.loads(capsys.readouterr().out)
    assert mine.pop("seconds") >= 0 and theirs.pop("seconds") >= 0
    assert mine == theirs
    assert mine["trials"] == 10_000 and mine["seed"] == 4242
    assert mine["setting"]["correlation"] == {"model": "odds_ratio", "value": 2.0}
