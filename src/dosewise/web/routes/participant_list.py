"""The participant list (search by study ID, filters, sorting, paging) and registration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dosewise.errors import DosewiseError, InvalidInput
from dosewise.store.tables import Arm, Site
from dosewise.trial.access import visible_sites
from dosewise.trial.services import participants, reads
from dosewise.web import records
from dosewise.web.clinical_forms import number
from dosewise.web.protocol_texts import protocol_texts
from dosewise.web.render import Form, FormErrors, Page, WebRoute, page_for, posted, redirect

router = APIRouter(prefix="/participants", route_class=WebRoute, include_in_schema=False)


# --------------------------------------------------------------------------- list, register


LIST_PAGE = 25
LIST_FILTERS = ("q", "site_id", "arm_id", "status", "phase", "open_queries", "sort", "order")


def _list_search(params: Mapping[str, str]) -> tuple[reads.ParticipantSearch, int]:
    """The list's search from the query string (bad values are refused naming the field)."""
    page_no = _whole(params.get("page") or "1", "page", 1)
    phase = params.get("phase") or None
    opened = params.get("open_queries") or None
    sort = params.get("sort") or "registered"
    search = reads.ParticipantSearch(
        text=params.get("q") or None,
        site_id=params.get("site_id") or None,
        arm_id=params.get("arm_id") or None,
        status=params.get("status") or None,
        phase=None if phase is None else _whole(phase, "phase", 1),
        open_queries=None if opened is None else opened == "yes",
        sort=sort,
        descending=params.get("order") == "desc",
        limit=LIST_PAGE,
        offset=(page_no - 1) * LIST_PAGE,
    )
    return search, page_no


def _whole(value: str, field: str, least: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(field, value, "must be a whole number") from None
    if not least <= number < 2**31:
        raise InvalidInput(field, value, f"must be a whole number >= {least}")
    return number


def _list_page(page: Page, *, status_code: int = 200, **context: Any) -> Response:
    user = page.signed_in
    params = page.request.query_params
    filters = {k: (params.get(k) or None) for k in LIST_FILTERS}
    list_errors = FormErrors()
    with page.uow(readonly=True) as uow:
        try:
            search, page_no = _list_search(params)
            rows, total = reads.search_participants(uow, search)
        except InvalidInput as exc:
            list_errors = FormErrors.of(exc, LIST_FILTERS)
            rows, total, page_no = [], 0, 1
        sites = visible_sites(user.actor, "participant.read")
        site_rows = uow.session.scalars(select(Site).order_by(Site.id))
        texts = protocol_texts(page.rt.settings, page.locale)
        site_choices = [
            (s.id, f"{s.id} · {texts.site(s.name)}")
            for s in site_rows
            if sites is None or s.id in sites
        ]
        arm_ids = uow.session.scalars(select(Arm.id).order_by(Arm.id))
        arm_choices = [(arm_id, texts.arm(arm_id)) for arm_id in arm_ids]
    writable = [s for s in site_choices if user.can("participant.write", s[0])]
    kept = {k: v for k, v in filters.items() if v}
    pages = max(1, -(-total // LIST_PAGE))
    return page.render(
        "participants/list.html",
        status_code=status_code,
        rows=rows,
        total=total,
        page_no=page_no,
        pages=pages,
        kept=kept,
        filters=filters,
        list_errors=list_errors,
        site_choices=site_choices,
        writable_sites=writable,
        arm_choices=arm_choices,
        show_queries=user.can("query.read"),
        **context,
    )


@router.get("")
def participant_list(page: Page = Depends(page_for("participant.read"))) -> Response:
    return _list_page(page)


@router.post("")
def register(posted_form: tuple[Page, Form] = Depends(posted("participant.write"))) -> Response:
    page, form = posted_form
    try:
        site_id = form.text("site_id") or page.signed_in.site_id or ""
        with page.uow() as uow:
            p = participants.register_participant(
                uow,
                site_id,
                year_of_birth=number(form, "year_of_birth", as_int=True),  # type: ignore[arg-type]
                registered_on=records.day(form, "registered_on"),
            )
            study_id = p.study_id
    except DosewiseError as exc:
        errors = FormErrors.of(exc, ("site_id", "year_of_birth", "registered_on"))
        status = int(getattr(exc, "http_status", 422))
        return _list_page(page, status_code=status, form=form, errors=errors)
    return redirect(f"/participants/{study_id}?done=register")
