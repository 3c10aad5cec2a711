"""Rich views of a protocol, a screening result and a consent check (no rules live here).

Values the registry does not give are tagged ``[A1]``, ``[A2]`` ... where they appear and listed
with their reasons in a last table, so nobody mistakes an assumption for the registry's word.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dosewise.protocol import ConsentCheck, Protocol, ScreeningResult, assumptions
from dosewise.protocol.base import Fact

STATUS_STYLE = {"met": "green", "not_met": "red", "not_assessed": "yellow", "not_applicable": "dim"}
STATUS_SHORT = {"not_met": "not met", "not_assessed": "missing", "not_applicable": "n/a"}
VERDICT_STYLE = {"pass": "green", "fail": "bold red", "unknown": "yellow"}
OVERALL_STYLE = {"eligible": "bold green", "ineligible": "bold red", "incomplete": "bold yellow"}
TAG_STYLE = "bold yellow"
#: What the design-dose column says for a level outside the dose finding (design index 0).
OUTSIDE_DESIGN_TEXT = "outside the dose finding: safety only"


def console() -> Console:
    """A console on stdout that replaces characters the terminal cannot encode (±, ≥, ×).

    Without this an ASCII-only stdout (``PYTHONIOENCODING=ascii``) ends the command with a
    ``UnicodeEncodeError`` traceback instead of printing ``?``.
    """
    stream = sys.stdout
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
    if "utf" not in encoding and hasattr(stream, "reconfigure"):
        stream.reconfigure(errors="replace")
    return Console()


class Tags:
    """Numbers a protocol's assumptions and tags the values they belong to."""

    def __init__(self, protocol: Protocol) -> None:
        self.notes = assumptions(protocol)
        self.number = {note.path: i for i, note in enumerate(self.notes, start=1)}

    def tag(self, path: str) -> str:
        return f" [A{self.number[path]}]" if path in self.number else ""

    def text(self, value: Any, path: str) -> Text:
        """``value`` (a plain value or a :class:`Fact`) followed by its tag, if assumed."""
        shown = value.value if isinstance(value, Fact) else value
        return Text("" if shown is None else str(shown)).append(self.tag(path), style=TAG_STYLE)


def _pairs(title: str | Text, rows: list[tuple[str, Text | str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


def _table(title: str | Text, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _registry(p: Protocol) -> list[Table]:
    reg = p.registry
    rows: list[tuple[str, Text | str]] = [
        ("phases", "/".join(reg.phases)),
        ("status", reg.status),
        ("start / completion", f"{reg.start_date} / {reg.completion_date}"),
        ("last updated", str(reg.last_updated)),
        ("target enrollment", str(reg.target_enrollment)),
        ("identifiers", ", ".join(f"{i.id} ({i.source})" for i in reg.identifiers)),
        ("design", f"{reg.allocation}, {reg.intervention_model}, masking {reg.masking}"),
        ("conditions", "; ".join(reg.conditions)),
        ("sponsors", "; ".join(f"{s.name} ({s.role})" for s in reg.sponsors)),
    ]
    if reg.responsible_party:
        rp = reg.responsible_party
        rows.append(("responsible party", f"{rp.name}, {rp.title} ({rp.role})"))
    rows += [("contact", " ".join(filter(None, (c.name, c.phone, c.email)))) for c in reg.contacts]
    sites = _table("Sites", "site", "location", "status")
    for s in reg.sites:
        sites.add_row(s.name, ", ".join(filter(None, (s.city, s.region, s.country))), s.status)
    endpoints = _table("Primary endpoints", "measure", "time frame", "phase")
    for e in reg.primary_endpoints:
        endpoints.add_row(e.measure, e.time_frame, e.phase or "")
    return [_pairs("Registry record", rows), sites, endpoints]


def _arms(p: Protocol, tags: Tags) -> Table:
    table = _table("Arms", "id", "arm", "intervention", "lymphodepletion")
    for i, arm in enumerate(p.arms):
        table.add_row(
            arm.id,
            arm.label,
            f"{arm.intervention.name} ({arm.intervention.type})",
            tags.text(arm.lymphodepletion, f"arms[{i}].lymphodepletion"),
        )
    return table


def _doses(p: Protocol, tags: Tags) -> Table:
    ladder = p.dose_levels
    title = Text("Dose levels, ").append(tags.text(ladder.unit, "dose_levels.unit"))
    table = _table(title, "level", "cells/kg", "window/kg", "role", "design dose")
    for i, lv in enumerate(ladder.levels):
        table.add_row(
            lv.name,
            f"{lv.cells_per_kg:.1e}",
            f"{lv.min_per_kg:.1e}-{lv.max_per_kg:.1e} (±{lv.tolerance:.0%})",
            lv.role,
            tags.text(
                lv.design_index if lv.in_design else OUTSIDE_DESIGN_TEXT,
                f"dose_levels.levels[{i}].design_index",
            ),
        )
    return table


def _windows(p: Protocol, tags: Tags) -> Table:
    w, bor = p.windows, p.windows.bor
    bor_text = (
        Text(f"{bor.label}: day ")
        .append(tags.text(bor.target_day, "windows.bor.target_day"))
        .append(f" (days {bor.first_day}-{bor.last_day})")
    )
    return _pairs(
        "Windows (days)",
        [
            ("study day 0", tags.text(w.study_day_zero, "windows.study_day_zero")),
            ("DLT", f"days 0-{w.dlt_days}"),
            ("adverse events", f"days 0-{w.ae_days}"),
            ("best overall response", bor_text),
        ],
    )


def _design(p: Protocol, tags: Tags) -> Table:
    d = p.design
    rows: list[tuple[str, Text | str]] = [
        ("method", d.method),
        ("total enrollment", str(d.total_enrollment)),
    ]
    for name in (
        "toxicity_endpoint",
        "efficacy_endpoint",
        "arms_independent",
        "cohort_size",
        "phase1_max_n_per_arm",
        "phase2_expansion_per_arm",
    ):
        rows.append((name, tags.text(getattr(d, name), f"design.{name}")))
    for name in type(d.boin12).model_fields:
        rows.append((f"boin12.{name}", tags.text(getattr(d.boin12, name), f"design.boin12.{name}")))
    for name in type(d.phase2).model_fields:
        fact = getattr(d.phase2, name)
        path = f"design.phase2.{name}"
        if fact is None:
            shown = Text("the arm's boin12.phi_t" if name == "phi_t0" else "-")
        elif isinstance(fact.value, tuple):  # interim looks: expansion participants
            listed = ", ".join(map(str, fact.value)) or "none"
            shown = Text(f"after {listed} expansion participants").append(
                tags.tag(path), style=TAG_STYLE
            )
        else:
            shown = tags.text(fact, path)
        rows.append((f"phase2.{name}", shown))
    for arm_id in p.arm_ids:
        params = p.design_params(arm_id)
        plan = p.bop2_plan(arm_id)
        n1 = d.phase1_most_at_one_dose(arm_id)
        tox = (
            f", DLT monitoring phi_t0 {plan.phi_t0:g} phi_t1 {plan.phi_t1:g}"
            if plan.monitor_toxicity and plan.phi_t1 is not None
            else ""
        )
        rows.append(
            (
                f"arm {arm_id}",
                f"{params.n_doses} doses, start dose {params.start_dose}, phase 1 max "
                f"{params.max_n}, phase 2 +{d.phase2_expansion(arm_id)}; BOP2 p0 {plan.p0:g} "
                f"p1 {plan.p1:g} alpha {plan.alpha:g}, looks at "
                f"{', '.join(map(str, plan.looks(n1)))} if {n1} phase 1 patients had the RP2D"
                f"{tox}",
            )
        )
    return _pairs("Design", rows)


def _dlt(p: Protocol, tags: Tags) -> Table:
    dlt = p.dlt
    title = Text(f"DLT definition v{dlt.version}, window {dlt.window_days} days")
    title.append(tags.tag("dlt"), style=TAG_STYLE)
    table = _table(title, "rule", "scale and grade", "not a DLT when")
    for rule in dlt.rules:
        unless = []
        if rule.not_dlt_if_resolves:
            r = rule.not_dlt_if_resolves
            unless.append(f"<= grade {r.to_grade} within {r.within_hours:g} h")
        if rule.persists_beyond_day is not None:
            unless.append(f"resolved by day {rule.persists_beyond_day}")
        if rule.exclude_if_present_at_baseline:
            unless.append("present at baseline")
        if rule.exclude_if_due_to_disease:
            unless.append("due to the disease")
        unless += [f"term: {e}" for e in rule.exceptions]
        table.add_row(
            Text(rule.id, style="bold").append(f"\n{rule.description}", style="default"),
            f"{rule.scale}\n{rule.grades()}",
            "; ".join(unless),
        )
    table.caption = (
        f"attribution counted: {', '.join(dlt.related_attributions)}; evaluable: infused and "
        f"followed {dlt.evaluability.min_follow_up_days} days, or a DLT before then"
    )
    return table


def _criteria(p: Protocol, tags: Tags) -> Table:
    table = Table(title="Eligibility criteria", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("criterion (registry text) and the rule applied", overflow="fold")
    for i, c in enumerate(p.eligibility.criteria):
        applies = f"arms: {', '.join(c.arms)}\n" if c.arms else ""
        table.add_row(
            Text(c.id).append(tags.tag(f"eligibility.criteria[{i}]"), style=TAG_STYLE),
            Text(f"{c.title}\n" if c.title else "", style="bold")
            .append(c.text + "\n", style="default")
            .append(f"{applies}rule: {c.describe()}", style="cyan"),
        )
    return table


def _consent(p: Protocol, tags: Tags) -> Table:
    c = p.consent
    return _pairs(
        "Consent",
        [
            ("forms", ", ".join(c.forms)),
            (
                "bands (age: signers)",
                "; ".join(f"{b.label()}: {' + '.join(b.roles)}" for b in c.bands),
            ),
            ("who may sign", "; ".join(f"{r}: {', '.join(s)}" for r, s in c.role_signers.items())),
            ("age basis", tags.text(c.age_basis, "consent.age_basis")),
        ],
    )


def _assumptions(tags: Tags) -> Table:
    table = Table(title="Assumptions (not in the registry)", title_justify="left")
    table.add_column("#", no_wrap=True)
    table.add_column("where = value", overflow="fold", ratio=2)
    table.add_column("why", overflow="fold", ratio=3)
    for i, note in enumerate(tags.notes, start=1):
        table.add_row(f"A{i}", f"{note.path}\n= {note.value}", note.why)
    return table


def render_protocol(p: Protocol, console: Console, source: str) -> None:
    """Every section of the protocol, assumptions tagged, then the list of assumptions."""
    tags = Tags(p)
    console.print(Text(f"{p.registry.nct_id}: {p.registry.title}", style="bold"))
    console.print(f"source: {source}")
    if tags.notes:
        note = f"{len(tags.notes)} values are assumptions (not in the registry), tagged [A#]"
        console.print(Text(note, style="yellow"))
    for part in (
        *_registry(p),
        _arms(p, tags),
        _doses(p, tags),
        _windows(p, tags),
        _design(p, tags),
        _dlt(p, tags),
        _criteria(p, tags),
        _consent(p, tags),
        _assumptions(tags),
    ):
        console.print(part)


def render_screening(result: ScreeningResult, console: Console) -> None:
    """One row per criterion with its status, verdict and evidence, then the overall answer."""
    who = result.subject_id or "candidate"
    table = Table(
        title=f"Screening of {who} for arm {result.arm} on {result.screening_date}",
        title_justify="left",
    )
    table.add_column("id", no_wrap=True)
    table.add_column("criterion", overflow="fold", ratio=2)
    table.add_column("status", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("evidence", overflow="fold", ratio=3)
    for c in result.criteria:
        table.add_row(
            c.id + (" [A]" if c.assumption else ""),
            c.title,
            Text(STATUS_SHORT.get(c.status, c.status), style=STATUS_STYLE[c.status]),
            Text(c.verdict, style=VERDICT_STYLE[c.verdict]),
            "\n".join(c.evidence),
        )
    console.print(table)
    console.print(Text(f"overall: {result.overall}", style=OVERALL_STYLE[result.overall]))
    if result.failed:
        console.print(f"failed: {', '.join(result.failed)}")
    if result.not_assessed:
        console.print(f"not assessed: {', '.join(result.not_assessed)}")
    if result.missing:
        console.print(f"data needed: {', '.join(result.missing)}")
    console.print(
        "For an exclusion criterion 'met' means the excluding condition is present. "
        "[A] marks a criterion read with an assumption (see `dosewise protocol show`)."
    )


def render_consent(check: ConsentCheck, console: Console) -> None:
    """The signatures the age band requires, which are present, and what is missing."""
    table = Table(title=f"Consent (age {check.age_years}, band {check.band_label})")
    for column in ("form", "role", "signed"):
        table.add_column(column)
    for need in check.required:
        ok = need not in check.missing
        table.add_row(
            need.form, need.role, Text("yes" if ok else "MISSING", "green" if ok else "red")
        )
    console.print(table)
    for problem in check.problems:
        console.print(Text(problem, style="red"))
    if check.complete:
        console.print(Text(f"complete on {check.completed_on}", style="bold green"))
    else:
        console.print(Text("incomplete", style="bold red"))
