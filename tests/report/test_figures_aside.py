"""The DSMB figures drawn by a helper process (:mod:`dosewise.report.figures_aside`): the same
bytes as drawn here, a fallback to drawing here whenever the helper cannot answer, and no
helper left behind."""

from __future__ import annotations

import os
import re
import site
import subprocess
from pathlib import Path

import pytest

from dosewise.report import figures_aside
from dosewise.report.dsmb import build_dsmb, dsmb_html, write_dsmb
from dosewise.report.dsmb_figures import draw_figures, dsmb_figures, figure_spec
from dosewise.report.figures_aside import FiguresAside
from dosewise.report.oc_cache import OcCache
from dosewise.report.render import html_to_pdf
from dosewise.report.trial_data import TrialData


def gone(process: subprocess.Popen[bytes]) -> bool:
    return process.poll() is not None


def test_the_helper_draws_exactly_what_this_process_would(trial: TrialData) -> None:
    spec = figure_spec(build_dsmb(trial), "zh")
    aside = FiguresAside()
    aside.start()
    process = aside.process
    assert process is not None
    aside.send(spec)
    assert aside.receive(spec) == draw_figures(spec)
    assert aside.process is None
    assert process.returncode == 0  # the helper answered (a fallback would have killed it)


def test_a_helper_that_ended_or_answers_nonsense_is_replaced_by_drawing_here(
    trial: TrialData,
) -> None:
    spec = figure_spec(build_dsmb(trial), "en")
    ended = FiguresAside()
    ended.start()
    assert ended.process is not None
    ended.process.kill()
    ended.process.wait()
    ended.send(spec)
    assert ended.receive(spec) == draw_figures(spec)

    liar = FiguresAside()
    liar.process = subprocess.Popen(  # answers at once with something that is not figures
        ["python3", "-c", "import pickle, sys; sys.stdout.buffer.write(pickle.dumps([1]))"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    liar.send(spec)
    assert liar.receive(spec) == draw_figures(spec)


def test_a_silent_helper_is_given_up_after_the_time_limit(
    trial: TrialData, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = figure_spec(build_dsmb(trial), "en")
    monkeypatch.setattr(figures_aside, "TIMEOUT_S", 0.2)
    silent = FiguresAside()
    silent.process = subprocess.Popen(
        ["sleep", "30"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    process = silent.process
    silent.send(spec)
    assert silent.receive(spec) == draw_figures(spec)
    assert gone(process)  # killed, not left running


def test_cached_figures_need_no_helper_and_it_is_stopped(trial: TrialData, tmp_path: Path) -> None:
    report = build_dsmb(trial)
    drawn = dsmb_figures(report, "en", OcCache(tmp_path))
    with figures_aside.figures_aside():
        aside = figures_aside.current()
        if aside is None:  # one CPU only: nothing to start
            pytest.skip("the helper is only started with a second CPU")
        process = aside.process
        assert process is not None
        assert dsmb_figures(report, "en", OcCache(tmp_path)) == drawn  # from the cache
    assert gone(process) and figures_aside.current() is None


def test_drawn_afresh_inside_the_block_the_figures_come_from_the_helper(
    trial: TrialData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = build_dsmb(trial)
    monkeypatch.setattr(figures_aside, "worth_it", lambda: True)
    with figures_aside.figures_aside():
        aside = figures_aside.current()
        assert aside is not None and aside.process is not None
        process = aside.process
        cache = OcCache(tmp_path)
        assert dsmb_figures(report, "en", cache) == draw_figures(figure_spec(report, "en"))
        assert cache.misses == 1 and aside.process is None  # the helper was sent the spec
    assert process.returncode == 0  # it answered, and was waited for


def test_not_worth_it_on_one_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert not figures_aside.worth_it()
    with figures_aside.figures_aside():
        assert figures_aside.current() is None


def test_a_pdf_drafted_while_the_helper_draws_equals_one_made_in_one_go(
    trial: TrialData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figures put into the drafted PDF's slots give the very PDF the whole HTML gives."""
    report = build_dsmb(trial)
    monkeypatch.setattr(figures_aside, "worth_it", lambda: True)
    with figures_aside.figures_aside():
        write_dsmb(report, tmp_path / "drafted.pdf", "en", OcCache(tmp_path / "cache"))
    whole = html_to_pdf(dsmb_html(report, "en"))
    assert pdf_body(tmp_path / "drafted.pdf") == pdf_body(whole)


def pdf_body(pdf: Path | bytes) -> bytes:
    """The PDF without its creation date and document id (the only bytes that differ)."""
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    return re.sub(rb"/(CreationDate|ModDate) \(D:[^)]*\)|/ID \[[^]]*\]", b"", data)


def test_the_helper_imports_this_dosewise_without_putting_site_packages_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = str(Path(figures_aside.__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    assert figures_aside._same_dosewise()["PYTHONPATH"] == os.pathsep.join([here, "/elsewhere"])
    monkeypatch.setattr(site, "getsitepackages", lambda: [here])  # an installed package
    assert figures_aside._same_dosewise()["PYTHONPATH"] == "/elsewhere"
