"""Words the pages show for codes (roles, statuses, grades) and the navigation per role.

Every label is an English message id marked with :func:`N_`, translated where it is shown
(``_(L.ROLES[user.role])`` in a template). Clinical terms keep their standard English names and
the Chinese catalog puts the Chinese label beside them, e.g. "细胞因子释放综合征 (CRS)".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dosewise.trial import access
from dosewise.web.i18n import N_

if TYPE_CHECKING:
    from dosewise.web.session import WebUser

ROLES: dict[str, str] = {
    "admin": N_("Administrator"),
    "investigator": N_("Investigator"),
    "coordinator": N_("Study coordinator"),
    "statistician": N_("Statistician"),
    "dsmb": N_("DSMB member"),
    "monitor": N_("Monitor"),
    "data_manager": N_("Data manager"),
}

ARM_PHASES: dict[str, str] = {
    "phase1": N_("Phase 1 dose finding"),
    "phase2": N_("Phase 2 expansion"),
    "closed": N_("Closed"),
}

PARTICIPANT_STATUSES: dict[str, str] = {
    "registered": N_("Registered"),
    "screen_failed": N_("Screen failure"),
    "eligible": N_("Eligible"),
    "consented": N_("Consented"),
    "enrolled": N_("Enrolled"),
    "dose_assigned": N_("Dose assigned"),
    "released": N_("Product released"),
    "infused": N_("Infused"),
    "treated": N_("Treated"),
    "off_study": N_("Off study"),
}

CRITERION_STATUSES: dict[str, str] = {
    "met": N_("Met"),
    "not_met": N_("Not met"),
    "not_assessed": N_("Not assessed"),
    "not_applicable": N_("Not applicable"),
}

#: A criterion's result as the checklist shows it (an absent exclusion is good, not "not met").
CRITERION_RESULTS: dict[str, str] = {
    "met": N_("Met"),
    "not_met": N_("Not met"),
    "present": N_("Present: excludes"),
    "not_present": N_("Not present"),
    "not_assessed": N_("Not assessed"),
    "not_applicable": N_("Not applicable"),
}

VERDICTS: dict[str, str] = {
    "eligible": N_("Eligible"),
    "ineligible": N_("Ineligible"),
    "incomplete": N_("Incomplete"),
}

VISIT_STATUSES: dict[str, str] = {
    "done": N_("Done"),
    "due": N_("Due"),
    "overdue": N_("Overdue"),
    "upcoming": N_("Upcoming"),
    "missed": N_("Missed"),
    "not_due": N_("Not yet due"),
    "out_of_window": N_("Done outside the window"),
    "passed": N_("Window passed"),
}

#: Clinical terms: the English name is kept, the Chinese catalog adds the Chinese label.
TERMS: dict[str, str] = {
    "CTCAE": N_("CTCAE v5.0 grade"),
    "ASTCT": N_("ASTCT 2019 consensus grade"),
    "DLT": N_("Dose-limiting toxicity (DLT)"),
    "CRS": N_("Cytokine release syndrome (CRS)"),
    "ICANS": N_("Immune effector cell-associated neurotoxicity syndrome (ICANS)"),
    "BOR": N_("Best overall response (BOR)"),
    "OBD": N_("Optimal biological dose (OBD)"),
    "RP2D": N_("Recommended phase 2 dose (RP2D)"),
    "RDS": N_("Rank-based desirability score (RDS)"),
}

CRS_COMPONENTS: dict[str, str] = {
    "fever": N_("Fever"),
    "hypotension": N_("Hypotension"),
    "hypoxia": N_("Hypoxia"),
    "death": N_("Death"),
}

ICANS_COMPONENTS: dict[str, str] = {
    "ice": N_("ICE score"),
    "capd": N_("CAPD score"),
    "consciousness": N_("Depressed level of consciousness"),
    "seizure": N_("Seizure"),
    "motor": N_("Motor findings"),
    "cerebral_edema": N_("Raised intracranial pressure / cerebral oedema"),
    "death": N_("Death"),
}

OXYGEN_DEVICES: dict[str, str] = {
    "none": N_("None (room air)"),
    "blow_by": N_("Blow-by"),
    "nasal_cannula": N_("Nasal cannula"),
    "facemask": N_("Facemask"),
    "nonrebreather": N_("Non-rebreather mask"),
    "venturi": N_("Venturi mask"),
    "cpap": N_("CPAP"),
    "bipap": N_("BiPAP"),
    "mechanical_ventilation": N_("Mechanical ventilation"),
}

CONSCIOUSNESS: dict[str, str] = {
    "awake": N_("Awakens spontaneously"),
    "awakens_to_voice": N_("Awakens to voice"),
    "awakens_to_tactile": N_("Awakens only to tactile stimulus"),
    "unarousable": N_("Unarousable"),
}

SEIZURES: dict[str, str] = {
    "none": N_("None"),
    "resolving": N_("Clinical or EEG seizure that resolves rapidly"),
    "prolonged_or_repetitive": N_("Prolonged or repetitive seizures"),
}

EDEMAS: dict[str, str] = {
    "none": N_("None"),
    "focal": N_("Focal/local oedema on imaging"),
    "diffuse": N_("Diffuse cerebral oedema, decerebrate posturing or Cushing's triad"),
}

AUDIT_OPERATIONS: dict[str, str] = {
    "insert": N_("Entered"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "event": N_("Event"),
}


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


#: (path, label, the action that makes it visible, or None for every signed-in user).
_NAV: tuple[tuple[str, str, str | None], ...] = (
    ("/worklist", N_("Worklist"), "participant.read"),
    ("/trial", N_("Trial overview"), "arm.read"),
    ("/participants", N_("Participants"), "participant.read"),
    ("/queries", N_("Queries"), "query.read"),
    ("/deviations", N_("Protocol deviations"), "participant.read"),
    ("/dsmb", N_("DSMB"), "report.read"),
    ("/reports", N_("Reports"), None),
    ("/protocol", N_("Protocol"), None),
    ("/tools", N_("Calculators"), None),
    ("/audit", N_("Audit trail"), "audit.read"),
    ("/admin/users", N_("Users"), "user.read"),
)

#: Actions whose pages hold every site's records: shown only to users over every site.
_EVERY_SITE = frozenset({"report.read"})


def navigation(user: WebUser | None) -> list[NavItem]:
    """The pages the user's role may open, in menu order."""
    if user is None:
        return []
    return [
        NavItem(href, label)
        for href, label, action in _NAV
        if action is None
        or (
            access.reaches_every_site(user.actor, action)
            if action in _EVERY_SITE
            else access.scope_of(user.role, action) is not None
        )
    ]


def home(user: WebUser) -> str:
    """Where a user lands after signing in: the first page their role may open (the worklist
    for everyone who reads participants)."""
    if access.scope_of(user.role, "user.manage") is not None:
        return "/admin/users"
    items = navigation(user)
    return items[0].href if items else "/protocol"


#: Rules the services state in English that the web shows through the catalog (the message id
#: is the rule itself; see ``dosewise.web.render.error_words``).
SERVICE_RULES: tuple[str, ...] = (
    N_("is not your current password"),
    N_("is required"),
    N_("3-64 characters: lower-case letters, digits, '.', '_', '-'"),
)

#: A BOP2 look's decision in words.
BOP2_DECISIONS: dict[str, str] = {
    "continue": N_("Continue"),
    "stop": N_("Stop the arm"),
    "promising": N_("Promising"),
    "not_promising": N_("Not promising"),
}

NEXT_ACTIONS: dict[str, str] = {
    "assign": N_("Assign"),
    "wait": N_("Wait"),
    "select_obd": N_("Select the OBD and close phase 1"),
    "stop": N_("Stop: close phase 1"),
    "closed": N_("Closed"),
}

OUTCOME_STATUSES: dict[str, str] = {
    "complete": N_("Complete"),
    "pending": N_("Pending"),
    "not_evaluable": N_("Not evaluable"),
    "not_assigned": N_("No dose yet"),
    "safety_only": N_("Safety only (fallback level)"),
    "dlt": N_("DLT"),
    "no_dlt": N_("No DLT"),
    "response": N_("Response"),
    "no_response": N_("No response"),
}

#: One event under the DLT rules (``dosewise.clinical.dlt.EventStatus``).
EVENT_DLT_STATUSES: dict[str, str] = {
    "dlt": N_("DLT"),
    "not_dlt": N_("Not a DLT"),
    "pending": N_("Pending"),
    "indeterminate": N_("Not yet decidable"),
}

WAITING_FOR: dict[str, str] = {
    "infusion": N_("infusion"),
    "dlt_window": N_("end of the DLT window"),
    "dlt_adjudication": N_("DLT adjudication"),
    "dlt_readjudication": N_("DLT re-adjudication"),
    "response_assessment": N_("response assessment"),
}

#: The protocol's not-evaluable reasons (``evaluation.dlt_adjudication``), as the web shows them.
NOT_EVALUABLE_REASONS: dict[str, str] = {
    "died_of_progression": N_("Died of disease progression before the end of the DLT window"),
    "died_other": N_("Died of a cause other than a DLT before the end of the DLT window"),
    "withdrew": N_("Withdrew consent before the end of the DLT window"),
    "lost_to_follow_up": N_("Lost to follow-up before the end of the DLT window"),
    "not_infused": N_("Not infused"),
    "other_therapy": N_("Received another anti-cancer therapy inside the DLT window"),
}

ELIMINATED: dict[str, str] = {
    "toxicity": N_("Eliminated (toxicity)"),
    "futility": N_("Eliminated (futility)"),
}

AE_CATEGORIES: dict[str, str] = {
    "crs": N_("CRS"),
    "icans": N_("ICANS"),
    "gvhd": N_("GVHD"),
    "haematological": N_("Haematological"),
    "non_haematological": N_("Non-haematological"),
    "death": N_("Death"),
    "other": N_("Other"),
}

ATTRIBUTIONS: dict[str, str] = {
    "unrelated": N_("Unrelated"),
    "unlikely": N_("Unlikely"),
    "possible": N_("Possible"),
    "probable": N_("Probable"),
    "definite": N_("Definite"),
}

#: Protocol deviation categories (trial.services.deviations.CATEGORIES).
DEVIATION_CATEGORIES: dict[str, str] = {
    "dose_outside_windows": N_("Dose outside every level's window"),
    "eligibility": N_("Eligibility"),
    "consent": N_("Informed consent"),
    "visit_window": N_("Visit outside its window"),
    "procedure": N_("Procedure not as the protocol says"),
    "other": N_("Other"),
}

OFF_STUDY_REASONS: dict[str, str] = {
    "death": N_("Death"),
    "withdrawal": N_("Withdrawal of consent"),
    "lost_to_follow_up": N_("Lost to follow-up"),
    "investigator_decision": N_("Investigator's decision"),
    "other": N_("Other"),
    "sct": N_("Stem-cell transplantation (censors the response)"),
    "new_therapy": N_("New anti-cancer therapy (censors the response)"),
}

QUERY_STATUSES: dict[str, str] = {
    "open": N_("Open: waiting for the site"),
    "answered": N_("Answered: waiting for review"),
    "closed": N_("Closed"),
    "unresolved": N_("Open or answered"),
}

QUERY_AGES: dict[str, str] = {
    "lt7": N_("under 7 days"),
    "7to30": N_("7–30 days"),
    "gt30": N_("over 30 days"),
}

QUERY_STEPS: dict[str, str] = {
    "answer": N_("Answer"),
    "close": N_("Closed"),
    "reopen": N_("Re-opened"),
}

#: The records a data query can be about (``dosewise.trial.services.queries.RECORD_TYPES``).
RECORD_TYPES: dict[str, str] = {
    "participants": N_("Participant"),
    "consents": N_("Consent"),
    "screenings": N_("Screening"),
    "enrollments": N_("Enrollment"),
    "dose_assignments": N_("Dose assignment"),
    "products": N_("Product release"),
    "lymphodepletions": N_("Lymphodepletion"),
    "infusions": N_("Infusion"),
    "adverse_events": N_("Adverse event"),
    "dlt_adjudications": N_("DLT adjudication"),
    "response_assessments": N_("Response assessment"),
    "best_responses": N_("Best overall response"),
}

#: The participant page's steps (``dosewise.web.stepper.STEPS``).
STEPS: dict[str, str] = {
    "consent": N_("Consent"),
    "screening": N_("Screening"),
    "enrollment": N_("Enrollment"),
    "dose": N_("Dose"),
    "product": N_("Product"),
    "lymphodepletion": N_("Lymphodepletion"),
    "infusion": N_("Infusion"),
    "dlt_window": N_("DLT window"),
    "response": N_("Response"),
    "bor": N_("BOR"),
}

NEXT_STEPS: dict[str, str] = {
    "consent": N_("Record the consent"),
    "screening": N_("Screen for an arm"),
    "enrollment": N_("Enroll in the arm"),
    "dose": N_("Assign and confirm the dose"),
    "product": N_("Release the product"),
    "lymphodepletion": N_("Record the lymphodepletion"),
    "infusion": N_("Record the infusion"),
    "dlt_window": N_("Adjudicate DLT when the window closes"),
    "response": N_("Record a response assessment"),
    "bor": N_("Derive the best overall response"),
}

#: Response categories (``clinical.response``) in words; the category's abbreviation stays.
RESPONSES: dict[str, str] = {
    "CR": N_("CR"),
    "CRi": N_("CRi"),
    "PR": N_("PR"),
    "SD/NR": N_("SD/NR"),
    "PD": N_("PD"),
    "NE": N_("NE"),
}

#: The registry's recruitment statuses (ClinicalTrials.gov ``overallStatus`` and site status).
REGISTRY_STATUSES: dict[str, str] = {
    "NOT_YET_RECRUITING": N_("Not yet recruiting"),
    "RECRUITING": N_("Recruiting"),
    "ACTIVE_NOT_RECRUITING": N_("Active, not recruiting"),
    "COMPLETED": N_("Completed"),
    "ENROLLING_BY_INVITATION": N_("Enrolling by invitation"),
    "SUSPENDED": N_("Suspended"),
    "TERMINATED": N_("Terminated"),
    "WITHDRAWN": N_("Withdrawn"),
}

#: Countries of the registry's sites.
COUNTRIES: dict[str, str] = {"China": N_("China")}

#: A dose level's role in the protocol (``dose_levels.levels[].role``).
LEVEL_ROLES: dict[str, str] = {
    "start": N_("starting dose"),
    "escalation": N_("escalation"),
    "fallback": N_("fallback"),
}

#: The audit trail's record types (tables), in words: the clinical ones and the rest.
AUDIT_ENTITIES: dict[str, str] = {
    **RECORD_TYPES,
    "sites": N_("Site"),
    "protocol_versions": N_("Protocol version"),
    "arms": N_("Arm"),
    "users": N_("User account"),
    "auth_sessions": N_("Session"),
    "e_signatures": N_("E-signature"),
    "protocol_deviations": N_("Protocol deviation"),
    "phase1_closures": N_("Phase 1 closure"),
    "bop2_looks": N_("BOP2 look"),
    "data_queries": N_("Data query"),
    "data_query_messages": N_("Query message"),
}

#: The registry's phases (ClinicalTrials.gov ``phases``).
REGISTRY_PHASES: dict[str, str] = {
    "EARLY_PHASE1": N_("Early phase 1"),
    "PHASE1": N_("Phase 1"),
    "PHASE2": N_("Phase 2"),
    "PHASE3": N_("Phase 3"),
    "PHASE4": N_("Phase 4"),
}
