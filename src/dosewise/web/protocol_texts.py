"""The protocol's own words on a page, in the page's language: arms, sites, criteria, DLT rules,
consent signers, visits, AE terms and e-signature meanings.

The texts live with their data (the protocol file's ``zh`` mappings, ``clinical/ctcae_zh.yaml``,
the visit schedule); this module only picks the language. Templates reach it as ``pt``:
``{{ pt.arm(s.arm_id) }}``, ``{{ pt.ae(ae.term) }}``. A code the protocol does not know is shown
as it is, so a page never fails on an old record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from dosewise.clinical import dlt_reasons
from dosewise.clinical.ctcae_zh import term_name
from dosewise.clinical.schedule import Visit
from dosewise.protocol import Protocol
from dosewise.protocol.localized import is_zh
from dosewise.settings import Settings
from dosewise.trial.state.reasons import plain_step, plain_summary
from dosewise.web.evidence import EvidenceWords
from dosewise.web.i18n import N_, translations

#: What each e-signature meaning commits the signer to (the catalog has the Chinese); the same
#: English as ``dosewise.trial.esign.MEANING_TEXT`` (a test keeps them equal).
SIGNATURE_MEANINGS: dict[str, str] = {
    "authorship": N_("I am the author of this record"),
    "review": N_("I have reviewed this record"),
    "approval": N_("I approve this record"),
    "responsibility": N_("I take responsibility for this record"),
}


#: How ``dosewise.protocol.consent.MissingSignature`` is stored (``str(missing)``).
_MISSING_SIGNATURE = re.compile(r"^(\w+) consent form: (\w+)$")


@dataclass(frozen=True)
class ProtocolTexts:
    """One protocol's texts for one page language."""

    protocol: Protocol
    locale: str

    @property
    def zh(self) -> bool:
        return is_zh(self.locale)

    @property
    def colon(self) -> str:
        """The colon between a label and its value ("：" in Chinese)."""
        return "：" if self.zh else ": "

    def arm(self, arm_id: str | None) -> str:
        """An arm's label (its id when the protocol has no such arm)."""
        for arm in self.protocol.arms:
            if arm.id == arm_id:
                return arm.in_lang("label", self.locale)
        return arm_id or "—"

    def arms(self, arm_ids: Any) -> str:
        """Several arms' labels joined ("自体、…" / "Autologous, …")."""
        return self.joined(self.arm(str(a)) for a in arm_ids or ())

    def joined(self, items: Any) -> str:
        """Words joined as a list in the page's language."""
        return ("、" if self.zh else ", ").join(str(i) for i in items)

    def site(self, name: str | None) -> str:
        """A site's name, found by its registry (English) name."""
        for site in self.protocol.registry.sites:
            if site.name == name:
                return site.in_lang("name", self.locale)
        return name or "—"

    def criterion(self, criterion_id: str, field: str = "title") -> str:
        """A criterion's title (or ``text``)."""
        for crit in self.protocol.screening_criteria.criteria:
            if crit.id == criterion_id:
                return crit.in_lang(field, self.locale) or crit.in_lang("text", self.locale)
        return criterion_id

    def rule(self, rule_id: str | None) -> str:
        """A DLT rule's description."""
        for rule in self.protocol.dlt.rules:
            if rule.id == rule_id:
                return rule.in_lang("description", self.locale)
        return rule_id or "—"

    def signer(self, code: str) -> str:
        """A consent signer (``guardian`` …) in words."""
        return self.protocol.consent.signer_name(code, self.locale)

    def signers(self, codes: Any) -> str:
        """Several signers joined ("患者、法定监护人" / "patient, legal guardian")."""
        joiner = "、" if self.zh else ", "
        return joiner.join(self.signer(str(c)) for c in codes or ())

    def consent_form(self, form: str) -> str:
        """A consent form (``treatment`` …) in words."""
        return self.protocol.consent.form_name(form, self.locale)

    def consent_forms(self, forms: Any) -> str:
        """Several consent forms in words, joined."""
        return self.joined(self.consent_form(str(f)) for f in forms or ())

    def consent_missing(self, text: str) -> str:
        """A stored "<form> consent form: <signer>" line in words (other lines as they are)."""
        match = _MISSING_SIGNATURE.match(text)
        if match is None:
            return text
        form, signer = match.groups()
        return f"{self.consent_form(form)}{self.colon}{self.signer(signer)}"

    def visit(self, visit: Visit | str | None) -> str:
        """A visit's name (a :class:`Visit`, or its code such as ``day_7``)."""
        if isinstance(visit, Visit):
            return visit.label_in(self.locale)
        for known in self.protocol.visits:
            if known.name == visit:
                return known.in_lang("label", self.locale)
        return visit or "—"

    def dlt_reason(self, item: Mapping[str, Any] | None) -> str:
        """Why the DLT rule gives what it gives (a participant's or an event's assessment, as
        its dict) in the page's language; the stored English ``reason`` when it has no code."""
        if not item:
            return ""
        lang: dlt_reasons.Lang = "zh" if self.zh else "en"
        try:
            if item.get("reason_parts"):
                return dlt_reasons.event_text(
                    dlt_reasons.stored_parts(item["reason_parts"]),
                    lang,
                    term=self._term,
                    rule=self.rule,
                )
            if item.get("reason_code") in dlt_reasons.REASONS:
                why = (str(item["reason_code"]), dict(item.get("reason_params") or {}))
                return dlt_reasons.render(why, lang, term=self._term, rule=self.rule)
        except (KeyError, IndexError, TypeError, ValueError):
            pass
        return str(item.get("reason") or "")

    def _term(self, term: str) -> str:
        """An AE term in words (Chinese when known)."""
        return term_name(term, self.locale).text

    def unit(self, unit: str | None) -> str:
        """A regimen's dose unit (``mg/m2/day``) in the page's words (``mg/m²/天``)."""
        shown = (unit or "").replace("m2", "m²")
        if self.locale.startswith("zh"):
            shown = shown.replace("/day", "/天")
        return shown

    def ae(self, term: str | None) -> Markup:
        """An AE term: Chinese when known; else the English CTCAE term, marked as English."""
        if not term:
            return Markup("—")
        name = term_name(term, self.locale)
        if not name.english_only:
            return Markup(escape(name.text))
        note = translations(self.locale).gettext("English CTCAE term")
        shown = Markup(
            '<span lang="en" class="en-term" title="{}">{}</span> <span class="small">({})</span>'
        )
        return shown.format(note, name.text, note)

    def finding(self, name: str) -> str:
        """A screening finding (``pregnant`` …) in words."""
        return self.protocol.eligibility.finding_name(name, self.locale)

    def _evidence(self) -> EvidenceWords:
        return EvidenceWords(self.protocol, self.locale, self.arm)

    def evidence(self, items: Any) -> list[str] | None:
        """A criterion's evidence items as sentences (None: show the stored English)."""
        return self._evidence().sentences(items)

    def fields(self, names: Any) -> str:
        """Record fields (``ecog``, ``findings.pregnant`` …) in words, joined."""
        joiner = "、" if self.zh else ", "
        return joiner.join(self._evidence().field(str(n)) for n in names or ())

    def meaning(self, code: str | None) -> str:
        """What an e-signature's meaning commits the signer to."""
        message = SIGNATURE_MEANINGS.get(code or "")
        return translations(self.locale).gettext(message) if message else (code or "")

    def levels(self, cells: Callable[[float], str]) -> dict[int, tuple[str, str]]:
        """Design dose (1-based) → the protocol's level name and its cells/kg in words."""
        return {
            lv.design_index.value: (lv.name, cells(lv.cells_per_kg))
            for lv in self.protocol.dose_levels.levels
        }

    def plain(self, item: Any, cells: Callable[[float], str]) -> str:
        """The one-line summary for clinicians of a next step or a stored decision (empty
        when there is none): what happens next, in the protocol's dose names, and why."""
        lang = "zh" if self.zh else "en"
        if isinstance(item, Mapping):
            return plain_summary(item, self.levels(cells), lang)
        return plain_step(item, self.levels(cells), lang)


_PROTOCOLS: dict[str, Protocol] = {}


def protocol_texts(settings: Settings, locale: str) -> ProtocolTexts:
    """The texts of the protocol the service runs, for ``locale`` (the file is read once)."""
    key = settings.protocol_path
    if key not in _PROTOCOLS:
        from dosewise.trial import bootstrap

        _PROTOCOLS[key] = bootstrap.protocol_for(settings).protocol
    return ProtocolTexts(_PROTOCOLS[key], locale)
