"""The DSMB figures: drawn from what they show, kept in the report cache under exactly that."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dosewise.report.dsmb import DsmbReport, build_dsmb
from dosewise.report.dsmb_figures import draw_figures, dsmb_figures, figure_spec
from dosewise.report.oc_cache import OcCache
from dosewise.report.trial_data import TrialData


def test_figures_come_back_from_the_cache_byte_for_byte(trial: TrialData, tmp_path: Path) -> None:
    report = build_dsmb(trial)
    first = OcCache(tmp_path)
    drawn = dsmb_figures(report, "en", first)
    assert (first.hits, first.misses) == (0, 1)
    again = OcCache(tmp_path)  # a fresh process's cache on the same folder
    assert dsmb_figures(report, "en", again) == drawn
    assert (again.hits, again.misses) == (1, 0)
    assert drawn == draw_figures(figure_spec(report, "en"))  # what a fresh drawing gives
    assert drawn["swimmer"].startswith("data:image/png;base64,")


def test_another_language_or_other_data_is_another_entry(trial: TrialData, tmp_path: Path) -> None:
    report = build_dsmb(trial)
    dsmb_figures(report, "en", OcCache(tmp_path))
    zh = OcCache(tmp_path)
    dsmb_figures(report, "zh", zh)
    assert zh.misses == 1
    fewer: DsmbReport = dataclasses.replace(report, swimmer=report.swimmer[:-1])
    changed = OcCache(tmp_path)
    redrawn = dsmb_figures(fewer, "en", changed)
    assert changed.misses == 1
    assert redrawn == draw_figures(figure_spec(fewer, "en"))
    assert figure_spec(fewer, "en") != figure_spec(report, "en")


def test_no_cache_draws(trial: TrialData) -> None:
    report = build_dsmb(trial)
    assert dsmb_figures(report, "en") == draw_figures(figure_spec(report, "en"))
