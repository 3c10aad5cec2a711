"""The Chinese design report gives the protocol file's reasons (Table 2, Appendix A) and the
scenario library's descriptions (Table 11) in Chinese, from the data files' Chinese texts; the
English report keeps the English."""

from __future__ import annotations

import html
import re

from dosewise.report.design_report import DesignReport


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_chinese_report_reads_the_reasons_in_chinese(
    report: DesignReport, html_zh: str, html_en: str
) -> None:
    notes = report.assumptions
    assert notes and all(n.why_zh for n in notes)
    zh, en = _text(html_zh), _text(html_en)
    for note in notes:
        assert note.why_zh.replace("`", "") in zh, note.path
        assert " ".join(note.why.split()) not in zh, note.path
        assert note.why in en and note.why_zh not in en
    # Table 2: cohort size's reason in Chinese, not marked English
    cohort = next(n for n in notes if n.path == "design.cohort_size")
    assert f'<div class="why">{cohort.why_zh.replace("`", "")}' in html_zh.replace(
        "<code>", ""
    ).replace("</code>", "")
    assert "<code>boin12.md §1</code>" in html_zh


def test_chinese_report_describes_the_scenarios_in_chinese(
    report: DesignReport, html_zh: str, html_en: str
) -> None:
    scenarios = [oc.scenario for group in report.groups for oc in group.ocs]
    assert scenarios and all(s.description_zh for s in scenarios)
    zh, en = _text(html_zh), _text(html_en)
    for s in scenarios:
        assert s.description_zh.replace("“", "").replace("”", "") in zh.replace("“", "").replace(
            "”", ""
        )
        assert s.description not in zh and s.description in en
