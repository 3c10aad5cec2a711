"""One small design report per test session (few simulated trials), in English and Chinese.

Building and rendering the report is the slow part; every test reads these shared results.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from dosewise.protocol import Protocol, default_protocol
from dosewise.report.design_report import DesignReport, build_design_report, design_report_html
from dosewise.report.render import write_document

#: Few trials keep the session fast; the numbers are compared with the core at the same seed.
TRIALS = 300
SEED = 7


class _IdText(HTMLParser):
    """Text content of every element that has an ``id`` (nested text included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "meta"):
            return
        ident = dict(attrs).get("id")
        self.stack.append((tag, ident))
        if ident is not None:
            self.texts[ident] = []

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, ident in self.stack:
            if ident is not None:
                self.texts[ident].append(data)


def ids_of(html: str) -> dict[str, str]:
    """``id`` → the element's text, whitespace collapsed."""
    parser = _IdText()
    parser.feed(html)
    return {k: " ".join("".join(v).split()) for k, v in parser.texts.items()}


@pytest.fixture(scope="session")
def protocol() -> Protocol:
    return default_protocol()


@pytest.fixture(scope="session")
def report(protocol: Protocol) -> DesignReport:
    return build_design_report(protocol, trials=TRIALS, seed=SEED)


@pytest.fixture(scope="session")
def html_en(report: DesignReport) -> str:
    return design_report_html(report, "en")


@pytest.fixture(scope="session")
def html_zh(report: DesignReport) -> str:
    return design_report_html(report, "zh")


@pytest.fixture(scope="session")
def ids_en(html_en: str) -> dict[str, str]:
    return ids_of(html_en)


@pytest.fixture(scope="session")
def ids_zh(html_zh: str) -> dict[str, str]:
    return ids_of(html_zh)


@pytest.fixture(scope="session")
def pdf_zh(html_zh: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, kind = write_document(html_zh, tmp_path_factory.mktemp("pdf") / "design-zh.pdf")
    assert kind == "pdf"
    return path
