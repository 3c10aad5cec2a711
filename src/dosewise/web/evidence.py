"""Eligibility evidence in words, in the page's language.

A criterion's result carries its evidence as data (``evidence_items``: a code and its values,
see :class:`dosewise.protocol.checks.EvidenceItem`). This module says each item as a sentence
from the web catalog: "妊娠：否", "年龄 34 岁（2026年3月1日；规则：1–70）". A screening stored
before the items existed has none; the page then shows the English evidence, marked as English.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dosewise.protocol import Protocol
from dosewise.web.i18n import N_, Formatter

#: One sentence per evidence code; the values are formatted before they are put in.
SENTENCES: dict[str, str] = {
    "missing": N_("%(what)s: not recorded"),
    "finding": N_("%(finding)s: %(answer)s"),
    "sex": N_("Sex: %(sex)s"),
    "age": N_("Age %(age)s on %(date)s (rule: %(min)s–%(max)s years)"),
    "ecog": N_("ECOG %(ecog)s (rule: 0–%(max)s)"),
    "life_expectancy": N_("Life expectancy %(days)s days (rule: at least %(min)s days)"),
    "blasts": N_("Peripheral blood blasts %(pct)s (rule: below %(below)s)"),
    "washout": N_(
        "Last anti-neoplastic therapy on %(date)s, %(days)s days before screening "
        "(rule: more than %(more)s days)"
    ),
    "cd5": N_("CD5 by %(method)s on %(specimen)s: %(pct)s positive (rule: more than %(rule)s)"),
    "cd5_mfi": N_(
        "CD5 by %(method)s on %(specimen)s: %(pct)s positive, blast MFI %(log)s log from "
        "normal T cells (rule: more than %(rule)s and less than %(max_log)s log)"
    ),
    "cd5_no_mfi": N_(
        "CD5 by %(method)s on %(specimen)s: %(pct)s positive; blast and normal T-cell MFI "
        "not both recorded"
    ),
    "cd5_none": N_("CD5: no assay on a specimen this criterion accepts"),
    "lab": N_("%(analyte)s %(value)s = %(times)s × ULN (rule: at least %(rule)s × ULN)"),
    "consent_ok": N_("Consent complete for the age band, before screening"),
    "consent_incomplete": N_("Consent not complete for the age band"),
    "consent_late": N_("Consent completed on %(done)s, after screening on %(screening)s"),
    "not_applicable": N_("Not applicable: this criterion applies to %(arms)s only"),
}

#: Record fields a missing-data item can name.
FIELDS: dict[str, str] = {
    "sex": N_("Sex"),
    "date_of_birth": N_("Age (completed years)"),
    "ecog": N_("ECOG performance status"),
    "life_expectancy": N_("Life expectancy"),
    "peripheral_blood_blasts": N_("Peripheral blood blasts"),
    "last_antineoplastic_therapy_date": N_("Last anti-neoplastic therapy"),
    "cd5": N_("CD5 expression"),
    "labs.creatinine": N_("Creatinine"),
    "labs.bun": N_("Blood urea nitrogen"),
    "consent": N_("Informed consent"),
}

#: Words for the codes inside an item.
WORDS: dict[str, str] = {
    "female": N_("Female"),
    "male": N_("Male"),
    "flow_cytometry": N_("Flow cytometry"),
    "immunohistochemistry": N_("Immunohistochemistry"),
    "bone_marrow": N_("Bone marrow"),
    "csf": N_("Cerebrospinal fluid"),
    "tumour_tissue": N_("Tumour tissue"),
    "peripheral_blood": N_("Peripheral blood"),
    "other": N_("Other"),
    "creatinine": N_("Creatinine"),
    "bun": N_("Blood urea nitrogen"),
}


class EvidenceWords:
    """Says evidence items for one protocol, language and formatter."""

    def __init__(
        self,
        protocol: Protocol,
        locale: str,
        tr: Callable[..., str],
        arm_name: Callable[[str], str],
    ) -> None:
        self.protocol = protocol
        self.locale = locale
        self.tr = tr
        self.arm_name = arm_name
        self.fmt = Formatter(locale)

    def _word(self, code: Any) -> str:
        text = WORDS.get(str(code))
        return self.tr(text) if text else str(code)

    def _pct(self, value: Any) -> str:
        return self.fmt.number(float(value), 1) + "%"

    def field(self, field: str) -> str:
        """A record field in words (a finding by its name)."""
        return self._what(field)

    def _what(self, field: str) -> str:
        if field.startswith("findings."):
            return self.protocol.eligibility.finding_name(field.split(".", 1)[1], self.locale)
        if field.startswith("consent."):
            return self.tr(FIELDS["consent"])
        label = FIELDS.get(field)
        return self.tr(label) if label else field

    def _values(self, code: str, p: Mapping[str, Any]) -> dict[str, Any]:
        fmt = self.fmt
        if code == "missing":
            return {"what": self._what(str(p.get("field", "")))}
        if code == "finding":
            name = self.protocol.eligibility.finding_name(str(p["name"]), self.locale)
            return {"finding": name, "answer": self.tr("Yes") if p["seen"] else self.tr("No")}
        if code == "sex":
            return {"sex": self._word(p["sex"])}
        if code == "age":
            return {"age": p["age"], "date": fmt.date(p["on"]), "min": p["min"], "max": p["max"]}
        if code == "ecog":
            return {"ecog": p["ecog"], "max": p["max"]}
        if code == "life_expectancy":
            return {"days": fmt.number(p["days"], 0), "min": fmt.number(p["min"], 0)}
        if code == "blasts":
            return {"pct": self._pct(p["pct"]), "below": self._pct(p["below"])}
        if code == "washout":
            return {"date": fmt.date(p["last"]), "days": p["days"], "more": p["more_than"]}
        if code in ("cd5", "cd5_mfi", "cd5_no_mfi"):
            values = {
                "method": self._word(p["method"]),
                "specimen": self._word(p["specimen"]),
                "pct": self._pct(p["pct"]),
            }
            if "rule" in p:
                values["rule"] = self._pct(p["rule"])
            if code == "cd5_mfi":
                values |= {"log": fmt.number(p["log"], 2), "max_log": fmt.number(p["max_log"])}
            return values
        if code == "lab":
            return {
                "analyte": self._word(p["analyte"]),
                "value": p["value"],
                "times": fmt.number(p["times_uln"], 2),
                "rule": fmt.number(p["rule"]),
            }
        if code == "consent_late":
            return {"done": fmt.date(p["done"]), "screening": fmt.date(p["screening"])}
        if code == "not_applicable":
            joiner = "、" if self.locale.startswith("zh") else ", "
            return {"arms": joiner.join(self.arm_name(str(a)) for a in p.get("arms", ()))}
        return {}

    def say(self, item: Mapping[str, Any]) -> str | None:
        """One item as a sentence, or None for a code this version does not know."""
        code = str(item.get("code", ""))
        sentence = SENTENCES.get(code)
        if sentence is None:
            return None
        try:
            said = self.tr(sentence, **self._values(code, item.get("params") or {}))
        except (KeyError, TypeError, ValueError):
            return None
        return _capitalised(said)

    def sentences(self, items: Iterable[Mapping[str, Any]] | None) -> list[str] | None:
        """Every item as a sentence; None when there are no items or one cannot be said (the
        page then shows the stored English evidence)."""
        said = [self.say(i) for i in items or ()]
        if not said or any(s is None for s in said):
            return None
        return [s for s in said if s is not None]


def _capitalised(sentence: str) -> str:
    """A sentence that starts with a lower-case name (a finding: "pregnant: No") capitalised,
    as the checklist shows each item; a word with capitals inside ("eGFR") stays as it is."""
    head = sentence[:1]
    if head.islower() and not any(c.isupper() for c in sentence.split(" ", 1)[0]):
        return head.upper() + sentence[1:]
    return sentence
