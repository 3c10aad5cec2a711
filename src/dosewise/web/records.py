"""Form fields → the records the trial services take (consent, screening, certificate, adverse
event, response). Parsing only: dates, numbers, yes/no; the services and the pure rules judge
the values and name the field of anything wrong, which the form shows next to that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from dosewise.clinical import ctcae
from dosewise.clinical import response as response_rules
from dosewise.errors import InvalidInput
from dosewise.protocol import Protocol
from dosewise.web.clinical_forms import crs_input, icans_input, number
from dosewise.web.render import Form

SIGNERS = ("patient", "guardian", "patient_advocate")
SEXES = ("female", "male")
CD5_METHODS = ("flow_cytometry", "immunohistochemistry")
SPECIMENS = ("bone_marrow", "csf", "tumour_tissue", "peripheral_blood", "other")
DURATION_UNITS = ("days", "weeks", "months", "years")
CREATININE_UNITS = ("µmol/L", "mg/dL", "mmol/L")
BUN_UNITS = ("mmol/L", "mg/dL")
ATTRIBUTIONS = ctcae.ATTRIBUTIONS
EXTRAMEDULLARY = response_rules.EMDS
RESPONSE_CATEGORIES = response_rules.CATEGORIES


def day(form: Form, name: str, *, required: bool = False) -> date | None:
    """An ISO date (``<input type=date>``), None when empty unless required."""
    text = form.get(name).strip()
    if not text:
        if required:
            raise InvalidInput(name, None, "is required")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(name, text, "must be a date (YYYY-MM-DD)") from None


def yes_no(form: Form, name: str) -> bool | None:
    """A yes / no / not known choice."""
    value = form.get(name)
    return True if value == "yes" else False if value == "no" else None


def required_text(form: Form, name: str) -> str:
    value = form.text(name)
    if value is None:
        raise InvalidInput(name, None, "is required")
    return value


# --------------------------------------------------------------------------- consent


def signature_field(form_name: str, signer: str) -> str:
    return f"sig__{form_name}__{signer}"


def consent_record(form: Form, protocol: Protocol) -> dict[str, Any]:
    """The consent record: date, age (no birth date is asked for), who signed which form."""
    consent_on = day(form, "consent_date", required=True)
    assert consent_on is not None
    record: dict[str, Any] = {"consent_date": consent_on.isoformat()}
    age = number(form, "consent_age_years", as_int=True)
    if age is not None:
        record["age_years"] = age
    able = yes_no(form, "patient_able_to_sign")
    if able is not None:
        record["patient_able_to_sign"] = able
    signatures = []
    for form_name in protocol.consent.forms:
        for signer in SIGNERS:
            field = signature_field(form_name, signer)
            if form.flag(field):
                signature: dict[str, Any] = {"form": form_name, "signer": signer}
                signed_on = day(form, f"{field}__on")
                if signed_on is not None:
                    signature["signed_on"] = signed_on.isoformat()
                signatures.append(signature)
    record["signatures"] = signatures
    return record


# --------------------------------------------------------------------------- screening


def finding_field(name: str) -> str:
    return f"finding__{name}"


def _quantity(form: Form, name: str, unit: str) -> dict[str, Any] | None:
    value = number(form, name)
    return None if value is None else {"value": value, "unit": unit}


def _lab(form: Form, name: str) -> dict[str, Any] | None:
    value = number(form, f"{name}_value")
    if value is None:
        return None
    unit = form.get(f"{name}_unit")
    lab: dict[str, Any] = {"value": value, "unit": unit}
    uln = number(form, f"{name}_uln")
    if uln is not None:
        lab["uln"] = {"value": uln, "unit": unit}
    return lab


def screening_record(form: Form, protocol: Protocol) -> dict[str, Any]:
    """The screening record (``dosewise screen`` shape) from the screening form."""
    screened_on = day(form, "screening_date", required=True)
    assert screened_on is not None
    record: dict[str, Any] = {"screening_date": screened_on.isoformat()}
    age = number(form, "screen_age_years", as_int=True)
    if age is not None:
        record["age_years"] = age
    for name in ("sex",):
        if form.get(name):
            record[name] = form.get(name)
    ecog = number(form, "ecog", as_int=True)
    if ecog is not None:
        record["ecog"] = ecog
    life = number(form, "life_expectancy")
    if life is not None:
        record["life_expectancy"] = {"value": life, "unit": form.get("life_expectancy_unit")}
    blasts = _quantity(form, "peripheral_blood_blasts", "%")
    if blasts is not None:
        record["peripheral_blood_blasts"] = blasts
    last = day(form, "last_antineoplastic_therapy_date")
    if last is not None:
        record["last_antineoplastic_therapy_date"] = last.isoformat()
    positive = number(form, "cd5_positive")
    if positive is not None:
        assay: dict[str, Any] = {
            "method": form.get("cd5_method") or CD5_METHODS[0],
            "specimen": form.get("cd5_specimen") or SPECIMENS[0],
            "positive": {"value": positive, "unit": "%"},
        }
        for key in ("blast_mfi", "normal_t_cell_mfi"):
            value = number(form, f"cd5_{key}")
            if value is not None:
                assay[key] = value
        record["cd5"] = [assay]
    labs = {name: lab for name in ("creatinine", "bun") if (lab := _lab(form, name)) is not None}
    if labs:
        record["labs"] = labs
    findings = {}
    for name in protocol.screening_criteria.findings:
        value = yes_no(form, finding_field(name))
        if value is not None:
            findings[name] = value
    record["findings"] = findings
    return record


def screening_form(record: Mapping[str, Any], arm_id: str) -> Form:
    """The screening form filled from an earlier screening's record (the inverse of
    :func:`screening_record`), so a re-screen starts from what was entered last time; the
    screening date is left for today's."""
    values: dict[str, str] = {"arm_id": arm_id}

    def put(name: str, value: Any) -> None:
        if value is not None and value != "":
            values[name] = _text(value)

    put("screen_age_years", record.get("age_years"))
    put("sex", record.get("sex"))
    put("ecog", record.get("ecog"))
    life = record.get("life_expectancy") or {}
    put("life_expectancy", life.get("value"))
    put("life_expectancy_unit", life.get("unit"))
    put("peripheral_blood_blasts", (record.get("peripheral_blood_blasts") or {}).get("value"))
    put("last_antineoplastic_therapy_date", record.get("last_antineoplastic_therapy_date"))
    assays = record.get("cd5") or []
    if assays:
        assay = assays[0]
        put("cd5_method", assay.get("method"))
        put("cd5_specimen", assay.get("specimen"))
        put("cd5_positive", (assay.get("positive") or {}).get("value"))
        put("cd5_blast_mfi", assay.get("blast_mfi"))
        put("cd5_normal_t_cell_mfi", assay.get("normal_t_cell_mfi"))
    for name, lab in (record.get("labs") or {}).items():
        put(f"{name}_value", lab.get("value"))
        put(f"{name}_unit", lab.get("unit"))
        put(f"{name}_uln", (lab.get("uln") or {}).get("value"))
    for name, present in (record.get("findings") or {}).items():
        if isinstance(present, bool):
            values[finding_field(name)] = "yes" if present else "no"
    return Form({k: [v] for k, v in values.items()})


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- product


def certificate(form: Form) -> dict[str, Any]:
    """The release certificate as the service stores it: fractions (the form takes percent)."""
    values: dict[str, Any] = {"tnc": number(form, "tnc"), "volume_ml": number(form, "volume_ml")}
    for name in ("viability", "cd3", "car"):
        pct = number(form, name)
        if pct is not None and not 0 <= pct <= 100:
            raise InvalidInput(name, pct, "must be a percentage from 0 to 100")
        values[name] = None if pct is None else pct / 100
    return values


def _filled(values: Mapping[str, Any]) -> Form:
    """A form showing ``values`` (empty ones left out), as if typed."""
    return Form({k: [_text(v)] for k, v in values.items() if v is not None and v != ""})


def release_form(product: Mapping[str, Any]) -> Form:
    """The release form filled from a released product (the inverse of :func:`certificate`:
    fractions back to percent), for its correction."""
    cert = product.get("certificate") or {}
    values: dict[str, Any] = {
        "lot": product.get("lot"),
        "released_on": product.get("released_on"),
        "weight_kg": product.get("weight_kg"),
        "tnc": cert.get("tnc"),
        "volume_ml": cert.get("volume_ml"),
    }
    for name in ("viability", "cd3", "car"):
        if cert.get(name) is not None:
            values[name] = f"{float(cert[name]) * 100:.6g}"
    return _filled(values)


def lymphodepletion_form(ld: Mapping[str, Any]) -> Form:
    """The lymphodepletion form filled from the recorded regimen, for its correction (a list
    of days given through the API shows as its number of days, as the form asks)."""
    values: dict[str, Any] = {
        "regimen": ld.get("regimen"),
        "ld_start_on": ld.get("start_on"),
        "ld_end_on": ld.get("end_on"),
    }
    empty: dict[str, list[str]] = {}
    for agent in ("fludarabine", "cyclophosphamide"):
        given = next((a for a in ld.get("agents") or [] if a.get("agent") == agent), None)
        if given is None:  # not given: empty, not the form's usual dose
            empty[f"{agent}_dose"] = [""]
            continue
        days = given.get("days")
        values[f"{agent}_dose"] = given.get("dose")
        values[f"{agent}_unit"] = given.get("unit")
        values[f"{agent}_days"] = len(days) if isinstance(days, list) else days
    return Form({**_filled(values).values, **empty})


def infusion_form(infusion: Mapping[str, Any]) -> Form:
    """The infusion form filled from the recorded infusion, for its correction."""
    return _filled(
        {
            "infused_on": infusion.get("infused_on"),
            "infused_volume_ml": infusion.get("infused_volume_ml"),
            "infusion_weight_kg": infusion.get("weight_kg"),
        }
    )


def correction_forms(record: Mapping[str, Any]) -> dict[str, Form | None]:
    """The release, lymphodepletion and infusion forms filled from the participant's records
    (None where there is nothing to correct)."""
    released = [p for p in record.get("products") or [] if p.get("status") == "released"]
    lds = record.get("lymphodepletions") or []
    infusion = record.get("infusion")
    return {
        "release": release_form(released[-1]) if released else None,
        "lymphodepletion": lymphodepletion_form(lds[-1]) if lds else None,
        "infusion": infusion_form(infusion) if infusion else None,
    }


def lymphodepletion_agents(form: Form) -> list[dict[str, Any]]:
    """The agents given (fludarabine and cyclophosphamide rows of the form)."""
    agents = []
    for agent in ("fludarabine", "cyclophosphamide"):
        dose = number(form, f"{agent}_dose")
        if dose is None:
            continue
        days = number(form, f"{agent}_days", as_int=True)
        agents.append(
            {"agent": agent, "dose": dose, "unit": form.get(f"{agent}_unit"), "days": days}
        )
    return agents


# --------------------------------------------------------------------------- adverse events


def adverse_event(form: Form) -> dict[str, Any]:
    """Keyword arguments of ``record_adverse_event`` from the AE form (kind: ctcae/crs/icans)."""
    kind = form.get("ae_kind") or "ctcae"
    if kind not in ("ctcae", "crs", "icans"):
        raise InvalidInput("ae_kind", kind, "must be ctcae, crs or icans")
    onset = day(form, "onset_on", required=True)
    kwargs: dict[str, Any] = {
        "onset_on": onset,
        "resolved_on": day(form, "resolved_on"),
        "serious": form.flag("serious"),
        "attribution": form.get("attribution") or "possible",
        "baseline_present": form.flag("baseline_present"),
        "due_to_disease": form.flag("due_to_disease"),
        "notes": form.text("notes"),
        "course": grade_course(form),
    }
    if kind == "crs":
        kwargs.update(term="Cytokine release syndrome", crs=crs_input(form))
    elif kind == "icans":
        kwargs.update(
            term="Immune effector cell-associated neurotoxicity syndrome", icans=icans_input(form)
        )
    else:
        kwargs.update(
            term=required_text(form, "term"),
            grade=number(form, "grade", as_int=True),
            soc=form.text("soc"),
            verbatim=form.text("verbatim"),
        )
    return kwargs


#: Rows of the grade-course table in the "correct or complete" form.
COURSE_ROWS = 8


def grade_course(form: Form, prefix: str = "course") -> list[dict[str, Any]]:
    """The grade course typed in the table (``course_date_0``, ``course_grade_0`` ...): each
    filled row a point ``{"date", "grade"}``; empty rows are skipped. The rule's checks (first
    point on the onset, dates increasing, the worst grade = the event's) are the event's."""
    points: list[dict[str, Any]] = []
    for i in range(COURSE_ROWS):
        on = day(form, f"{prefix}_date_{i}")
        grade = form.get(f"{prefix}_grade_{i}").strip()
        if on is None and not grade:
            continue
        where = f"course[{len(points)}]"
        if on is None:
            raise InvalidInput(f"{where}.date", None, "is required with its grade")
        if not grade.isdigit():
            raise InvalidInput(f"{where}.grade", grade or None, "is required with its date (0-5)")
        points.append({"date": on.isoformat(), "grade": int(grade)})
    return points


# --------------------------------------------------------------------------- responses


def response(form: Form) -> dict[str, Any]:
    """Keyword arguments of ``record_response`` from the response form."""
    assessed_on = day(form, "assessed_on", required=True)
    kwargs: dict[str, Any] = {
        "assessed_on": assessed_on,
        "extramedullary": form.get("extramedullary") or "none",
        "timepoint": form.text("timepoint"),
        "notes": form.text("response_notes"),
    }
    if form.get("category"):
        kwargs["category"] = form.get("category")
    else:
        blasts = number(form, "blasts_pct")
        if blasts is not None:
            marrow: dict[str, Any] = {
                "blasts_pct": blasts,
                "circulating_blasts": form.flag("circulating_blasts"),
                "transfusion_independent": not form.flag("transfusion_dependent"),
            }
            for name in ("anc", "platelets", "baseline_blasts_pct"):
                value = number(form, name)
                if value is not None:
                    marrow[name] = value
            kwargs["marrow"] = marrow
    mrd_value = number(form, "mrd_value")
    if mrd_value is not None:
        kwargs["mrd"] = {
            "value": mrd_value,
            "sensitivity": number(form, "mrd_sensitivity") or 1e-4,
        }
    return kwargs
