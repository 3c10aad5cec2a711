"""Codes and protocol texts as a report shows them in its language: arm names, AE terms, arm
phases and next steps.

Arm names come from the protocol file (its ``zh`` labels), AE terms from
``clinical/ctcae_zh.yaml`` (an English-only term is marked), phases and next steps from the report
catalog; a code nobody knows is printed as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from markupsafe import Markup

from dosewise.clinical.ctcae_zh import TermName, soc_name, term_name
from dosewise.report.i18n import N_, Translator

#: The mark after an AE term that has no Chinese name.
ENGLISH_TERM = N_("English CTCAE term")

#: An arm's phase (``arms.phase``).
PHASES: dict[str, str] = {
    "phase1": N_("phase 1 dose finding"),
    "phase2": N_("phase 2 expansion"),
    "closed": N_("closed"),
}

#: What the arm's state says comes next (``NextStep.action``).
NEXT_STEPS: dict[str, str] = {
    "assign": N_("assign the next cohort"),
    "wait": N_("wait for outcomes"),
    "select_obd": N_("select the OBD and close phase 1"),
    "stop": N_("stop: close phase 1"),
    "closed": N_("closed"),
}


@dataclass(frozen=True)
class ReportNames:
    """Names for one report language; ``arm_names`` maps an arm id to its name by language."""

    lang: str
    arm_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def arm(self, arm_id: str | None) -> str:
        names = self.arm_names.get(arm_id or "", {})
        return names.get(self.lang) or names.get("en") or (arm_id or "—")

    def term(self, term: str | None) -> Markup:
        """An AE term in the report's language; an English-only one marked as such."""
        if not term:
            return Markup("—")
        return self._marked(term_name(term, self.lang))

    def soc(self, soc: str | None) -> Markup:
        """A system organ class in the report's language; an English-only one marked."""
        if not soc:
            return Markup("—")
        return self._marked(soc_name(soc, self.lang))

    def _marked(self, name: TermName) -> Markup:
        if not name.english_only:
            return Markup.escape(name.text)
        note = Translator(self.lang)(ENGLISH_TERM)
        return Markup('<span lang="en">{}</span> <span class="why">({})</span>').format(
            name.text, note
        )

    def phase(self, code: str) -> str:
        return Translator(self.lang)(PHASES[code]) if code in PHASES else code

    def next_step(self, code: str) -> str:
        return Translator(self.lang)(NEXT_STEPS[code]) if code in NEXT_STEPS else code


_TICKED = re.compile(r"`([^`]+)`")
_QUOTED_ENGLISH = re.compile(r"“([\x20-\x7e]+)”")


def source_words(text: str | None) -> Markup:
    """A protocol file's Chinese text (an assumption's ``why_zh``) as HTML: a `ticked` name (a
    file reference, a setting) as ``<code>``, an English name quoted “…” marked as English
    quoted from its source (``lang="en"``), so the Chinese pages and reports can tell them from
    untranslated words."""
    escaped = str(Markup.escape(text or ""))
    escaped = _TICKED.sub(r"<code>\1</code>", escaped)
    escaped = _QUOTED_ENGLISH.sub(r'“<span lang="en" class="en-source">\1</span>”', escaped)
    return Markup(escaped)
