"""Data queries in the pages: the list of queries the user may read (with counts by age), and
the forms of the participant page that raise, answer, close and re-open a query. Each form
calls one act of :mod:`dosewise.trial.services.queries`; a refusal comes back as the participant
page with the message next to the field."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from dosewise.errors import DosewiseError
from dosewise.store.tables import DataQuery
from dosewise.trial.access import Forbidden
from dosewise.trial.refusals import refusal
from dosewise.trial.services import queries
from dosewise.trial.uow import NotFound
from dosewise.web import participant_view as pview
from dosewise.web.render import Form, FormErrors, Page, WebRoute, page_for, posted, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RAISE_FIELDS = ("record", "field", "question")
STATUS_CHOICES = ("unresolved", "open", "answered", "closed")


@router.get("/queries")
def query_list(page: Page = Depends(page_for("query.read"))) -> Response:
    """Every query the user may read (site staff: their site), newest first, by status."""
    params = page.request.query_params
    wanted = params.get("status") or "unresolved"
    status = wanted if wanted in STATUS_CHOICES else "unresolved"
    with page.uow(readonly=True) as uow:
        rows = queries.list_queries(uow, queries.QueryFilter(status=status))
        counts = queries.summary(uow)
    return page.render("queries/list.html", rows=rows, counts=counts, status=status)


@router.post("/participants/{study_id}/queries")
def raise_query(
    study_id: str, posted_form: tuple[Page, Form] = Depends(posted("query.raise"))
) -> Response:
    page, form = posted_form
    record_type, _, record_id = form.get("record").partition(":")
    try:
        number = int(record_id) if record_id else None
    except ValueError:
        number = None
    try:
        with page.uow() as uow:
            queries.raise_query(
                uow,
                study_id,
                record_type=record_type,
                record_id=number,
                field=form.get("field"),
                question=form.get("question"),
            )
    except (Forbidden, NotFound) as exc:
        if exc.field != "record_id":
            raise
        return _again(page, form, study_id, "query", exc, {"record_id": "record"})
    except DosewiseError as exc:
        return _again(page, form, study_id, "query", exc, {"record_type": "record"})
    return redirect(f"/participants/{study_id}?done=query#queries")


@router.post("/queries/{query_id}/{step}")
def query_step(
    query_id: int, step: str, posted_form: tuple[Page, Form] = Depends(posted("query.read"))
) -> Response:
    """Answer (site staff), close or re-open (the raiser or a data manager) a query."""
    page, form = posted_form
    acts = {
        "answer": queries.answer_query,
        "close": queries.close_query,
        "reopen": queries.reopen_query,
    }
    if step not in acts:
        raise NotFound("step", step, f"must be one of {', '.join(acts)}")
    with page.uow(readonly=True) as uow:
        found = uow.session.get(DataQuery, query_id)
        if found is None:
            raise refusal(NotFound, "query_id", query_id, "no_such_query")
        study_id = queries.read_query(uow, query_id)["study_id"]
    text = form.get("text")
    try:
        with page.uow() as uow:
            acts[step](uow, query_id, text)
    except Forbidden:
        raise
    except DosewiseError as exc:
        return _again(page, form, study_id, f"query_{query_id}", exc, {})
    return redirect(f"/participants/{study_id}?done=query#query-{query_id}")


def _again(
    page: Page,
    form: Form,
    study_id: str,
    section: str,
    exc: DosewiseError,
    aliases: dict[str, str],
) -> Response:
    fields = RAISE_FIELDS if section == "query" else ("text",)
    errors = FormErrors.of(exc, fields, aliases)
    status = int(getattr(exc, "http_status", 422))
    return pview.render(
        page, study_id, active=section, form=form, errors=errors, status_code=status
    )
