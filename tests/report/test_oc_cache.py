"""The design report's operating characteristics are cached by their inputs (issue 19 item 4):
the same protocol, trials and seed read them back unchanged; any other input computes again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dosewise.protocol import Protocol
from dosewise.report.design_report import DesignReport, build_design_report
from dosewise.report.oc_cache import OcCache
from dosewise.settings import Settings

SCENARIO = ["nct07070323-dl2-best"]


def numbers(report: DesignReport) -> str:
    """The report's figures as text (so that NaN equals NaN), without the computing time."""
    return repr(
        [
            (
                oc.exact_selection_pct,
                {k: v for k, v in oc.tite_dict().items() if k != "seconds"},
                oc.duration_months("waiting"),
            )
            for group in report.groups
            for oc in group.ocs
        ]
    )


def entries(report: DesignReport) -> tuple[int, int, int]:
    """Cached computations of a report: scenario OCs, the exact OCs of both fallback readings
    (Table 14) and the phase 2 BOP2 boundaries (the last two depend on neither the seed nor
    the number of trials)."""
    return (
        sum(len(g.ocs) for g in report.groups),
        sum(len(g.readings) for g in report.groups),
        sum(g.group.phase2 is not None for g in report.groups),
    )


def test_a_second_report_reads_what_the_first_computed(protocol: Protocol, tmp_path: Path) -> None:
    first_cache = OcCache(tmp_path)
    first = build_design_report(protocol, trials=30, seed=5, scenarios=SCENARIO, cache=first_cache)
    total = sum(entries(first))
    assert entries(first)[1] == 2 * entries(first)[0]  # both readings of each scenario
    assert first_cache.misses == total and first_cache.hits == 0
    files = sorted(tmp_path.glob("oc-*.pickle"))
    assert len(files) == total
    again = OcCache(tmp_path)
    second = build_design_report(protocol, trials=30, seed=5, scenarios=SCENARIO, cache=again)
    assert (again.hits, again.misses) == (total, 0)
    assert second.groups[0].readings == first.groups[0].readings
    assert numbers(second) == numbers(first)
    uncached = build_design_report(protocol, trials=30, seed=5, scenarios=SCENARIO)
    assert numbers(uncached) == numbers(first)


def test_other_inputs_or_a_spoilt_entry_compute_again(protocol: Protocol, tmp_path: Path) -> None:
    cache = OcCache(tmp_path)
    first = build_design_report(protocol, trials=30, seed=5, scenarios=SCENARIO, cache=cache)
    build_design_report(protocol, trials=30, seed=6, scenarios=SCENARIO, cache=cache)
    build_design_report(protocol, trials=31, seed=5, scenarios=SCENARIO, cache=cache)
    # Only the exact readings and the BOP2 plan (seed and trials do not enter them) are read back.
    assert cache.hits == 2 * (entries(first)[1] + entries(first)[2])
    for entry in tmp_path.glob("oc-*.pickle"):
        entry.write_bytes(b"not a pickle")
    fresh = OcCache(tmp_path)
    build_design_report(protocol, trials=30, seed=5, scenarios=SCENARIO, cache=fresh)
    assert fresh.hits == 0 and fresh.misses > 0


def test_the_key_depends_on_every_input() -> None:
    cache = OcCache(Path("unused"))
    keys = {
        cache.key("oc", 1, 2.0, "a"),
        cache.key("oc", 1, 2.0, "b"),
        cache.key("oc", 1, 2.5, "a"),
        cache.key("oc", np.int64(2), 2.0, "a"),
    }
    assert len(keys) == 4
    assert cache.key("oc", 1, 2.0, "a") == OcCache(Path("other")).key("oc", 1, 2.0, "a")


@pytest.mark.parametrize(
    ("value", "folder"),
    [("", "default"), ("off", None), ("OFF", None), ("/srv/cache", "/srv/cache")],
)
def test_the_setting_names_the_folder(value: str, folder: str | None) -> None:
    cache = OcCache.from_settings(Settings(cache_dir=value))
    if folder is None:
        assert cache is None
    elif folder == "default":
        assert cache is not None and cache.folder.name == "dosewise"
    else:
        assert cache is not None and cache.folder == Path(folder)


def test_an_unwritable_folder_only_costs_the_saving(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    cache = OcCache(blocker / "cache")
    assert cache.get_or_compute(("x",), lambda: 42) == 42
    assert cache.get_or_compute(("x",), lambda: 43) == 43  # nothing was stored


def test_figures_are_read_back_not_drawn_again(
    protocol: Protocol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figures depend only on the cached OCs: a second report reads them, byte for byte,
    in its own language; another language draws its own."""
    from dosewise.report import design_figures
    from dosewise.report.design_report import design_report_context

    def figures(report: DesignReport, lang: str) -> list[dict[str, str]]:
        return [group.figs for group in design_report_context(report, lang)["groups"]]

    first = build_design_report(
        protocol, trials=30, seed=5, scenarios=SCENARIO, cache=OcCache(tmp_path)
    )
    drawn = figures(first, "en")
    assert drawn and all(
        g.keys() == {"truth", "selection", "allocation", "duration"} for g in drawn
    )
    uncached = build_design_report(protocol, trials=30, seed=5, scenarios=SCENARIO)
    assert figures(uncached, "en") == drawn  # the same drawing without a cache

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("drew a figure that was cached")

    for name in ("truth_figure", "selection_figure", "allocation_figure", "duration_figure"):
        monkeypatch.setattr(design_figures, name, refuse)
    again = OcCache(tmp_path)
    second = build_design_report(protocol, trials=30, seed=5, scenarios=SCENARIO, cache=again)
    assert figures(second, "en") == drawn
    assert again.misses == 0
    with pytest.raises(AssertionError, match="cached"):
        figures(second, "zh")  # not cached in Chinese yet
    other_seed = build_design_report(protocol, trials=30, seed=6, scenarios=SCENARIO, cache=again)
    with pytest.raises(AssertionError, match="cached"):
        figures(other_seed, "en")  # other OCs, other figures
