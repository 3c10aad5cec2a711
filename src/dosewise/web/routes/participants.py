"""One page per participant from consent to response (the list and registration are in
:mod:`.participant_list`). Each form posts to one clinical act of
:mod:`dosewise.trial.services`; a refusal comes back as the same page with the service's message
next to the field and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Response

from dosewise.errors import DosewiseError, InvalidInput
from dosewise.http.downloads import casebook_response
from dosewise.report.casebook_export import export_casebook
from dosewise.trial.access import Forbidden
from dosewise.trial.esign import Signing
from dosewise.trial.services import (
    adverse_events,
    deviations,
    participants,
    products,
    responses,
)
from dosewise.trial.services import dlt as dlt_service
from dosewise.trial.services import dosing as dosing_service
from dosewise.trial.uow import NotFound, UnitOfWork
from dosewise.web import participant_view as pview
from dosewise.web import protocol_view as pv
from dosewise.web import records
from dosewise.web.clinical_forms import CRS_FIELDS, ICANS_FIELDS, number
from dosewise.web.render import Form, FormErrors, Page, WebRoute, page_for, posted, redirect

router = APIRouter(prefix="/participants", route_class=WebRoute, include_in_schema=False)


# --------------------------------------------------------------------------- one participant


@router.get("/{study_id}")
def participant_page(study_id: str, page: Page = Depends(page_for("participant.read"))) -> Response:
    return pview.render(page, study_id)


@router.get("/{study_id}/casebook")
def casebook(study_id: str, page: Page = Depends(page_for("participant.read"))) -> Response:
    """The participant's casebook (``?format=pdf|html``, ``?lang=en|zh``, default: the page's
    language), read under this page's rule and audit-logged like the API's."""
    params = page.request.query_params
    lang = params.get("lang") or ("zh" if page.locale.startswith("zh") else "en")
    file = export_casebook(
        page.rt.db,
        page.signed_in.actor,
        study_id,
        fmt=params.get("format"),
        lang=lang,
        via="web",
        clock=page.rt.clock,
    )
    return casebook_response(file)


def _status(exc: DosewiseError) -> int:
    return int(getattr(exc, "http_status", 422))


def _act(
    page: Page,
    form: Form,
    study_id: str,
    section: str,
    fields: Iterable[str],
    act: Callable[[UnitOfWork], object],
    aliases: Mapping[str, str] | None = None,
    outcome: Callable[[object], str] | None = None,
    *,
    required: Iterable[str] = (),
    numbers: Iterable[str] = (),
) -> Response:
    """Run one clinical act; on refusal, the page again with the message next to the field.

    The form's own checks come first and are all shown at once: every ``required`` field left
    empty and every ``numbers`` field that is not a number. Then the service's rules decide.
    ``outcome`` names what was saved when it is not simply ``section`` (an incomplete consent).
    """
    names = tuple(fields)
    errors = FormErrors()
    for name in required:
        if form.text(name) is None:
            errors.add(InvalidInput(name, None, "is required"), names, aliases or {})
    for name in numbers:
        if name not in errors.fields:
            try:
                number(form, name)
            except InvalidInput as exc:
                errors.add(exc, names, aliases or {})
    if errors:
        return pview.render(
            page, study_id, active=section, form=form, errors=errors, status_code=422
        )
    try:
        with page.uow() as uow:
            result = act(uow)
    except (Forbidden, NotFound):
        raise  # not this user's act or record: the error page says so
    except DosewiseError as exc:
        errors = FormErrors.of(exc, names, aliases or {})
        return pview.render(
            page, study_id, active=section, form=form, errors=errors, status_code=_status(exc)
        )
    done = section if outcome is None else outcome(result)
    return redirect(f"/participants/{study_id}?done={done}#{section}")


def _signing(page: Page, form: Form, field: str, meaning: str = "approval") -> Signing:
    """The e-signature of an act: the password re-entered in ``field`` (Part 11 §11.200)."""
    return Signing(page.rt.passwords, page.rt.settings, form.get(field), meaning)


def _protocol(page: Page) -> Any:
    return pv.loaded_protocol(page.rt.settings).protocol


@router.post("/{study_id}/consent/check")
def consent_check(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    """Live: which signatures the age band requires and which are missing (``check_consent``)."""
    page, form = posted_form
    protocol = _protocol(page)
    try:
        from dosewise.protocol import parse_consent

        check = protocol.check_consent(parse_consent(records.consent_record(form, protocol)))
    except DosewiseError as exc:
        return page.render("participants/_consent_check.html", check=None, message=exc.message)
    return page.render("participants/_consent_check.html", check=check, message=None)


@router.post("/{study_id}/consent")
def consent(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form
    protocol = _protocol(page)
    fields = (
        "consent_date",
        "consent_age_years",
        "patient_able_to_sign",
        "consent_version",
        "signatures",
    )
    aliases = {"age_years": "consent_age_years", "date_of_birth": "consent_age_years"}

    def act(uow: UnitOfWork) -> object:
        return participants.record_consent(
            uow,
            study_id,
            records.consent_record(form, protocol),
            consent_version=records.required_text(form, "consent_version"),
        )

    def outcome(consent: object) -> str:
        return "consent" if getattr(consent, "valid", False) else "consent_incomplete"

    return _act(page, form, study_id, "consent", fields, act, aliases, outcome)


@router.post("/{study_id}/consent/{consent_id}/void")
def void_consent(
    study_id: str, consent_id: int, posted_form: tuple[Page, Form] = Depends(posted())
) -> Response:
    page, form = posted_form
    section = f"consent_void_{consent_id}"

    def act(uow: UnitOfWork) -> object:
        return participants.void_consent(
            uow, study_id, consent_id, reason=records.required_text(form, "void_reason")
        )

    return _act(page, form, study_id, section, ("void_reason",), act, {"reason": "void_reason"})


SCREEN_FIELDS = (
    "arm_id",
    "screening_date",
    "screen_age_years",
    "sex",
    "ecog",
    "life_expectancy",
    "peripheral_blood_blasts",
    "last_antineoplastic_therapy_date",
    "cd5",
    "labs",
    "findings",
)


@router.post("/{study_id}/screen")
def screen(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form
    protocol = _protocol(page)

    def act(uow: UnitOfWork) -> object:
        arm_id = records.required_text(form, "arm_id")
        return participants.screen(uow, study_id, arm_id, records.screening_record(form, protocol))

    aliases = {
        "age_years": "screen_age_years",
        "arm": "arm_id",
        "date_of_birth": "screen_age_years",
    }
    return _act(page, form, study_id, "screening", SCREEN_FIELDS, act, aliases)


@router.post("/{study_id}/enroll")
def enroll(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        return participants.enroll(
            uow,
            study_id,
            records.required_text(form, "enroll_arm_id"),
            enrolled_on=records.day(form, "enrolled_on"),
        )

    aliases = {"arm_id": "enroll_arm_id"}
    return _act(page, form, study_id, "enroll", ("enroll_arm_id", "enrolled_on"), act, aliases)


@router.post("/{study_id}/assign")
def assign(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form
    version = number(form, "arm_version", as_int=True)

    def act(uow: UnitOfWork) -> object:
        return dosing_service.assign_dose(
            uow, study_id, expected_arm_version=None if version is None else int(version)
        )

    return _act(page, form, study_id, "assign", ("wait_until", "version"), act)


@router.post("/{study_id}/confirm")
def confirm(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        return dosing_service.confirm_dose(uow, _signing(page, form, "confirm_password"), study_id)

    aliases = {"password": "confirm_password"}
    return _act(page, form, study_id, "confirm", ("confirm_password",), act, aliases)


RELEASE_FIELDS = ("lot", "weight_kg", "tnc", "viability", "cd3", "car", "volume_ml")


#: The release certificate's numbers and the weight: all required (the volume too: the dose
#: plan gives the volume to infuse from it).
CERTIFICATE_FIELDS = ("weight_kg", "tnc", "viability", "cd3", "car", "volume_ml")


@router.post("/{study_id}/release")
def release(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        weight = number(form, "weight_kg")
        if weight is None:
            raise InvalidInput("weight_kg", None, "is required")
        return products.release_product(
            uow,
            study_id,
            lot=records.required_text(form, "lot"),
            certificate=records.certificate(form),
            weight_kg=float(weight),
            released_on=records.day(form, "released_on", required=True),  # type: ignore[arg-type]
            signing=_signing(page, form, "release_password"),
        )

    aliases = {
        "password": "release_password",
        **{f"certificate.{k}": k for k in ("tnc", "viability", "cd3", "car", "volume_ml")},
    }
    fields = (*RELEASE_FIELDS, "released_on", "release_password")
    required = ("lot", *CERTIFICATE_FIELDS, "released_on", "release_password")
    return _act(
        page,
        form,
        study_id,
        "release",
        fields,
        act,
        aliases,
        required=required,
        numbers=CERTIFICATE_FIELDS,
    )


@router.post("/{study_id}/lymphodepletion")
def lymphodepletion(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        return products.record_lymphodepletion(
            uow,
            study_id,
            regimen=records.required_text(form, "regimen"),
            agents=records.lymphodepletion_agents(form),
            start_on=records.day(form, "ld_start_on", required=True),  # type: ignore[arg-type]
            end_on=records.day(form, "ld_end_on"),
        )

    aliases = {"start_on": "ld_start_on", "end_on": "ld_end_on"}
    fields = ("regimen", "ld_start_on", "ld_end_on")
    return _act(page, form, study_id, "lymphodepletion", fields, act, aliases, required=fields[:2])


@router.post("/{study_id}/infusion")
def infusion(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        volume = number(form, "infused_volume_ml")
        if volume is None:
            raise InvalidInput("infused_volume_ml", None, "is required")
        weight = number(form, "infusion_weight_kg")
        reason = (form.get("deviation_reason") or "").strip()
        deviation = None
        if reason or form.get("deviation_password"):
            signing = _signing(page, form, "deviation_password", "responsibility")
            deviation = deviations.DeviationIn(reason, signing)
        return products.record_infusion(
            uow,
            study_id,
            infused_on=records.day(form, "infused_on", required=True),  # type: ignore[arg-type]
            infused_volume_ml=float(volume),
            weight_kg=None if weight is None else float(weight),
            deviation=deviation,
        )

    aliases = {
        "weight_kg": "infusion_weight_kg",
        "deviation.reason": "deviation_reason",
        "password": "deviation_password",
    }
    fields = (
        "infused_on",
        "infused_volume_ml",
        "infusion_weight_kg",
        "deviation_reason",
        "deviation_password",
    )
    required = ("infused_on", "infused_volume_ml")
    numbers = ("infused_volume_ml", "infusion_weight_kg")
    return _act(
        page, form, study_id, "infusion", fields, act, aliases, required=required, numbers=numbers
    )


AE_FIELDS = (
    "course",
    "term",
    "grade",
    "onset_on",
    "resolved_on",
    "attribution",
    "soc",
    "verbatim",
    "crs",
    "icans",
    *CRS_FIELDS,
    *ICANS_FIELDS,
)


@router.post("/{study_id}/ae")
def adverse_event(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        return adverse_events.record_adverse_event(uow, study_id, **records.adverse_event(form))

    return _act(page, form, study_id, "ae", AE_FIELDS, act, {"onset": "onset_on", "died": "died"})


@router.post("/{study_id}/ae/{event_id}")
def update_adverse_event(
    study_id: str, event_id: int, posted_form: tuple[Page, Form] = Depends(posted())
) -> Response:
    """Correct or complete a saved event: a reason is required (audited)."""
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        version = number(form, "version", as_int=True)
        return adverse_events.update_adverse_event(
            uow,
            study_id,
            event_id,
            version=int(version or 0),
            reason=form.get("reason"),
            resolved_on=records.day(form, "update_resolved_on"),
            course=records.grade_course(form) if "course_present" in form else None,
            serious=form.flag("update_serious") if "update_serious_present" in form else None,
            attribution=form.text("update_attribution"),
            outcome=form.text("update_outcome"),
            notes=form.text("update_notes"),
        )

    aliases = {"resolved_on": "update_resolved_on", "attribution": "update_attribution"}
    fields = ("reason", "update_resolved_on", "update_attribution", "version", "course", "grade")
    return _act(page, form, study_id, f"ae_update_{event_id}", fields, act, aliases)


@router.post("/{study_id}/dlt")
def adjudicate(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form
    choice = form.get("dlt_decision")

    def act(uow: UnitOfWork) -> object:
        is_dlt = {"dlt": True, "no_dlt": False, "not_evaluable": False}.get(choice)
        evaluable = (
            False if choice == "not_evaluable" else (True if choice in ("dlt", "no_dlt") else None)
        )
        return dlt_service.adjudicate_dlt(
            uow,
            study_id,
            is_dlt=is_dlt,
            evaluable=evaluable,
            rationale=form.text("rationale"),
            signing=(
                _signing(page, form, "dlt_password", "responsibility")
                if form.text("dlt_password")
                else None
            ),
            not_evaluable_reason=form.text("not_evaluable_reason"),
        )

    fields = ("dlt_decision", "rationale", "dlt_password", "not_evaluable_reason")
    aliases = {"password": "dlt_password", "is_dlt": "dlt_decision", "evaluable": "dlt_decision"}
    return _act(page, form, study_id, "dlt", fields, act, aliases)


RESPONSE_FIELDS = (
    "assessed_on",
    "blasts_pct",
    "anc",
    "platelets",
    "baseline_blasts_pct",
    "category",
    "extramedullary",
    "mrd_value",
    "mrd_sensitivity",
    "timepoint",
    "marrow",
)


@router.post("/{study_id}/response")
def response(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        return responses.record_response(uow, study_id, **records.response(form))

    aliases = {
        "marrow.blasts_pct": "blasts_pct",
        "mrd.value": "mrd_value",
        "mrd.sensitivity": "mrd_sensitivity",
    }
    return _act(page, form, study_id, "response", RESPONSE_FIELDS, act, aliases)


@router.post("/{study_id}/off-study")
def off_study(study_id: str, posted_form: tuple[Page, Form] = Depends(posted())) -> Response:
    page, form = posted_form

    def act(uow: UnitOfWork) -> object:
        return participants.take_off_study(
            uow,
            study_id,
            off_study_on=records.day(form, "off_study_on", required=True),  # type: ignore[arg-type]
            reason_code=form.get("reason_code"),
            reason=records.required_text(form, "off_reason"),
        )

    fields = ("off_study_on", "reason_code", "off_reason")
    return _act(
        page,
        form,
        study_id,
        "off_study",
        fields,
        act,
        {"reason": "off_reason"},
        required=("off_study_on", "off_reason"),
    )
