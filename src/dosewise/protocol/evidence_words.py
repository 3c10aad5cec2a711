"""Eligibility evidence in words: the one rule and the one catalog (English and Chinese).

A criterion's result carries its evidence as data (``evidence_items``: a code and its values,
:class:`dosewise.protocol.checks.EvidenceItem`). :func:`say` turns one item into a sentence,
"妊娠：否", "2026年3月1日 时年龄 34 岁（规则：1–70 岁）", from :data:`SENTENCES`; both the
participant page (``dosewise.web.evidence``) and the casebook
(``dosewise.report.casebook_words``) render from here. What differs between them, how a date
or a number is written and how an arm is named, comes in as a :class:`Style`.

Templates are ``str.format`` strings; values are formatted before they are put in. A code this
version does not know (a screening stored by a later version) gives None, and the caller shows
the stored English evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from dosewise.protocol.model import Protocol

Lang = Literal["en", "zh"]

#: One sentence per evidence code, in each language.
SENTENCES: Final[dict[str, dict[Lang, str]]] = {
    "missing": {"en": "{what}: not recorded", "zh": "{what}：未记录"},
    "finding": {"en": "{finding}: {answer}", "zh": "{finding}：{answer}"},
    "sex": {"en": "Sex: {sex}", "zh": "性别：{sex}"},
    "age": {
        "en": "Age {age} on {date} (rule: {min}–{max} years)",
        "zh": "{date} 时年龄 {age} 岁（规则：{min}–{max} 岁）",
    },
    "ecog": {"en": "ECOG {ecog} (rule: 0–{max})", "zh": "ECOG {ecog} 分（规则：0–{max} 分）"},
    "life_expectancy": {
        "en": "Life expectancy {days} days (rule: at least {min} days)",
        "zh": "预期生存期 {days} 天（规则：至少 {min} 天）",
    },
    "blasts": {
        "en": "Peripheral blood blasts {pct} (rule: below {below})",
        "zh": "外周血原始细胞 {pct}（规则：低于 {below}）",
    },
    "washout": {
        "en": (
            "Last anti-neoplastic therapy on {date}, {days} days before screening "
            "(rule: more than {more} days)"
        ),
        "zh": "末次抗肿瘤治疗于 {date}，距筛选 {days} 天（规则：超过 {more} 天）",
    },
    "cd5": {
        "en": "CD5 by {method} on {specimen}: {pct} positive (rule: more than {rule})",
        "zh": "{specimen} {method} 检测 CD5：阳性率 {pct}（规则：高于 {rule}）",
    },
    "cd5_mfi": {
        "en": (
            "CD5 by {method} on {specimen}: {pct} positive, blast MFI {log} log from normal "
            "T cells (rule: more than {rule} and less than {max_log} log)"
        ),
        "zh": (
            "{specimen} {method} 检测 CD5：阳性率 {pct}，原始细胞 MFI 与正常 T 细胞相差 {log} "
            "个对数级（规则：高于 {rule} 且相差小于 {max_log} 个对数级）"
        ),
    },
    "cd5_no_mfi": {
        "en": (
            "CD5 by {method} on {specimen}: {pct} positive; blast and normal T-cell MFI not "
            "both recorded"
        ),
        "zh": "{specimen} {method} 检测 CD5：阳性率 {pct}；原始细胞与正常 T 细胞的 MFI 未同时记录",
    },
    "cd5_none": {
        "en": "CD5: no assay on a specimen this criterion accepts",
        "zh": "CD5：无本标准接受的标本的检测结果",
    },
    "lab": {
        "en": "{analyte} {value} = {times} × ULN (rule: at least {rule} × ULN)",
        "zh": "{analyte} {value} = {times} × 正常值上限 (ULN)（规则：至少 {rule} × ULN）",
    },
    "consent_ok": {
        "en": "Consent complete for the age band, before screening",
        "zh": "已按年龄段完成知情同意，且在筛选之前",
    },
    "consent_incomplete": {
        "en": "Consent not complete for the age band",
        "zh": "未按年龄段完成知情同意",
    },
    "consent_late": {
        "en": "Consent completed on {done}, after screening on {screening}",
        "zh": "知情同意于 {done} 完成，晚于 {screening} 的筛选",
    },
    "not_applicable": {
        "en": "Not applicable: this criterion applies to {arms} only",
        "zh": "不适用：本标准仅适用于{arms}",
    },
}

#: Record fields a missing-data item can name.
FIELDS: Final[dict[str, dict[Lang, str]]] = {
    "sex": {"en": "Sex", "zh": "性别"},
    "date_of_birth": {"en": "Age (completed years)", "zh": "年龄（周岁）"},
    "ecog": {"en": "ECOG performance status", "zh": "ECOG 体能状态"},
    "life_expectancy": {"en": "Life expectancy", "zh": "预期生存期"},
    "peripheral_blood_blasts": {"en": "Peripheral blood blasts", "zh": "外周血原始细胞"},
    "last_antineoplastic_therapy_date": {
        "en": "Last anti-neoplastic therapy",
        "zh": "末次抗肿瘤治疗",
    },
    "cd5": {"en": "CD5 expression", "zh": "CD5 表达"},
    "labs.creatinine": {"en": "Creatinine", "zh": "肌酐"},
    "labs.bun": {"en": "Blood urea nitrogen", "zh": "血尿素氮"},
    "consent": {"en": "Informed consent", "zh": "知情同意"},
}

#: Words for the codes inside an item (sex, assay method, specimen, analyte, yes/no).
WORDS: Final[dict[str, dict[Lang, str]]] = {
    "female": {"en": "Female", "zh": "女"},
    "male": {"en": "Male", "zh": "男"},
    "flow_cytometry": {"en": "Flow cytometry", "zh": "流式细胞术"},
    "immunohistochemistry": {"en": "Immunohistochemistry", "zh": "免疫组化"},
    "bone_marrow": {"en": "Bone marrow", "zh": "骨髓"},
    "csf": {"en": "Cerebrospinal fluid", "zh": "脑脊液"},
    "tumour_tissue": {"en": "Tumour tissue", "zh": "肿瘤组织"},
    "peripheral_blood": {"en": "Peripheral blood", "zh": "外周血"},
    "other": {"en": "Other", "zh": "其他"},
    "creatinine": {"en": "Creatinine", "zh": "肌酐"},
    "bun": {"en": "Blood urea nitrogen", "zh": "血尿素氮"},
    "yes": {"en": "Yes", "zh": "是"},
    "no": {"en": "No", "zh": "否"},
}

_JOINER: Final[dict[Lang, str]] = {"en": ", ", "zh": "、"}


def _iso(value: Any) -> str:
    return str(value)


def _plain_number(value: float, digits: int) -> str:
    """Up to ``digits`` decimals, no trailing zeros (``94``, ``0.73``)."""
    text = f"{float(value):.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Style:
    """How one reader writes what goes into a sentence: dates (ISO text in), numbers (a value
    and its most decimals), an arm (by id), and a record field the catalog does not name."""

    date: Callable[[Any], str] = _iso
    number: Callable[[float, int], str] = _plain_number
    arm: Callable[[str], str] = str
    field: Callable[[str], str | None] = lambda _name: None


def lang_of(locale: str | None) -> Lang:
    """The catalog language of a locale (``zh``, ``zh_CN`` → ``zh``; anything else ``en``)."""
    return "zh" if (locale or "").lower().startswith("zh") else "en"


def field_name(protocol: Protocol, field: str, lang: Lang, style: Style | None = None) -> str:
    """A record field a missing-data item names, in words (a finding by its protocol name)."""
    if field.startswith("findings."):
        return protocol.eligibility.finding_name(field.split(".", 1)[1], lang)
    if field.startswith("consent."):
        return FIELDS["consent"][lang]
    named = FIELDS.get(field)
    if named is not None:
        return named[lang]
    other = (style or Style()).field(field)
    return other if other else field


def _word(code: Any, lang: Lang) -> str:
    words = WORDS.get(str(code))
    return words[lang] if words else str(code).replace("_", " ")


def _values(
    code: str, p: Mapping[str, Any], protocol: Protocol, lang: Lang, s: Style
) -> dict[str, Any]:
    def pct(value: Any) -> str:
        return s.number(float(value), 1) + "%"

    if code == "missing":
        return {"what": field_name(protocol, str(p.get("field", "")), lang, s)}
    if code == "finding":
        name = protocol.eligibility.finding_name(str(p["name"]), lang)
        return {"finding": name, "answer": _word("yes" if p["seen"] else "no", lang)}
    if code == "sex":
        return {"sex": _word(p["sex"], lang)}
    if code == "age":
        return {"age": p["age"], "date": s.date(p["on"]), "min": p["min"], "max": p["max"]}
    if code == "ecog":
        return {"ecog": p["ecog"], "max": p["max"]}
    if code == "life_expectancy":
        return {"days": s.number(p["days"], 0), "min": s.number(p["min"], 0)}
    if code == "blasts":
        return {"pct": pct(p["pct"]), "below": pct(p["below"])}
    if code == "washout":
        return {"date": s.date(p["last"]), "days": p["days"], "more": p["more_than"]}
    if code in ("cd5", "cd5_mfi", "cd5_no_mfi"):
        values = {
            "method": _word(p["method"], lang),
            "specimen": _word(p["specimen"], lang),
            "pct": pct(p["pct"]),
        }
        if "rule" in p:
            values["rule"] = pct(p["rule"])
        if code == "cd5_mfi":
            values |= {"log": s.number(p["log"], 2), "max_log": s.number(p["max_log"], 2)}
        return values
    if code == "lab":
        return {
            "analyte": _word(p["analyte"], lang),
            "value": p["value"],
            "times": s.number(p["times_uln"], 2),
            "rule": s.number(p["rule"], 2),
        }
    if code == "consent_late":
        return {"done": s.date(p["done"]), "screening": s.date(p["screening"])}
    if code == "not_applicable":
        return {"arms": _JOINER[lang].join(s.arm(str(a)) for a in p.get("arms", ()))}
    return {}


def say(
    item: Mapping[str, Any], protocol: Protocol, lang: Lang, style: Style | None = None
) -> str | None:
    """One evidence item as a sentence in ``lang``, or None for a code this version does not
    know (or values that do not fit its sentence)."""
    code = str(item.get("code", ""))
    sentence = SENTENCES.get(code)
    if sentence is None:
        return None
    try:
        values = _values(code, item.get("params") or {}, protocol, lang, style or Style())
        said = sentence[lang].format(**values)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return capitalised(said)


def sentences(
    items: Iterable[Mapping[str, Any]] | None,
    protocol: Protocol,
    lang: Lang,
    style: Style | None = None,
) -> list[str] | None:
    """Every item as a sentence; None when there are no items or one cannot be said (the
    reader then shows the stored English evidence)."""
    said = [say(i, protocol, lang, style) for i in items or ()]
    if not said or any(s is None for s in said):
        return None
    return [s for s in said if s is not None]


def capitalised(sentence: str) -> str:
    """A sentence that starts with a lower-case name (a finding: "pregnant: No") capitalised,
    as a checklist shows each item; a word with capitals inside ("eGFR") stays as it is."""
    head = sentence[:1]
    if head.islower() and not any(c.isupper() for c in sentence.split(" ", 1)[0]):
        return head.upper() + sentence[1:]
    return sentence


__all__ = [
    "FIELDS",
    "SENTENCES",
    "WORDS",
    "Lang",
    "Style",
    "capitalised",
    "field_name",
    "lang_of",
    "say",
    "sentences",
]
