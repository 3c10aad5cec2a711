"""Data queries: raise a query on a field of a participant's record, answer it (the site),
close or re-open it (the raiser or a data manager), list them with counts by age (issue 17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_schemas import MAX_INT, In, LongText, example
from dosewise.trial.services import queries

router = APIRouter(prefix="/queries", tags=["data queries"])

RecordType = Literal[
    "participants",
    "consents",
    "screenings",
    "enrollments",
    "dose_assignments",
    "products",
    "lymphodepletions",
    "infusions",
    "adverse_events",
    "dlt_adjudications",
    "response_assessments",
    "best_responses",
]
assert set(RecordType.__args__) == set(queries.RECORD_TYPES)  # type: ignore[attr-defined]
FieldName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$",
        description="A column of the record, or column.key inside a JSON column",
        examples=["grade", "certificate.volume_ml"],
    ),
]
StudyId = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
QueryId = Path(ge=1, le=MAX_INT)


class QueryIn(In):
    model_config = example(
        {
            "study_id": "S01-0001",
            "record_type": "adverse_events",
            "record_id": 3,
            "field": "grade",
            "question": "The source notes show hypotension needing a vasopressor: grade 3?",
        }
    )

    study_id: StudyId
    record_type: RecordType
    record_id: int | None = Field(
        default=None, ge=1, le=MAX_INT, description="The record's id (none for participants)"
    )
    field: FieldName
    question: LongText


class AnswerIn(In):
    model_config = example({"text": "Corrected: the event is now grade 3."})

    text: LongText


class CloseIn(In):
    model_config = example({"text": "Resolved by the correction."})

    text: LongText | None = None


class ReopenIn(In):
    model_config = example({"text": "The onset date still differs from the source."})

    text: LongText


class QueryMessageOut(BaseModel):
    kind: Literal["answer", "close", "reopen"]
    text: str | None
    posted_at: datetime
    posted_by: str


class QueryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "study_id": "S01-0001",
                    "site_id": "S01",
                    "record_type": "adverse_events",
                    "record_id": 3,
                    "field": "grade",
                    "question": "Grade 3?",
                    "status": "answered",
                    "raised_at": "2026-01-05T09:00:00Z",
                    "raised_by": "mon.beijing",
                    "updated_at": "2026-01-06T10:00:00Z",
                    "closed_at": None,
                    "age_days": 1,
                    "age": "lt7",
                    "messages": [
                        {
                            "kind": "answer",
                            "text": "Corrected",
                            "posted_at": "2026-01-06T10:00:00Z",
                            "posted_by": "coord.beijing",
                        }
                    ],
                }
            ]
        }
    )

    id: int
    study_id: str
    site_id: str
    record_type: str
    record_id: int
    field: str
    question: str
    status: Literal["open", "answered", "closed"]
    raised_at: datetime
    raised_by: str = Field(description="The raiser's username")
    updated_at: datetime
    closed_at: datetime | None
    age_days: int = Field(description="Days since the query was raised")
    age: Literal["lt7", "7to30", "gt30"]
    messages: list[QueryMessageOut]


class AgeCounts(BaseModel):
    lt7: int = Field(description="Raised less than 7 days ago")
    to30: int = Field(alias="7to30", description="Raised 7 to 30 days ago")
    gt30: int = Field(description="Raised more than 30 days ago")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class QuerySummaryOut(BaseModel):
    unresolved: int = Field(description="Open or answered")
    open: int
    answered: int
    by_age: AgeCounts


StatusFilter = Literal["open", "answered", "closed", "unresolved"]


def _filter(
    study_id: str | None = Query(
        default=None, min_length=3, max_length=32, pattern=r"^[A-Za-z0-9-]+$"
    ),
    site_id: str | None = Query(
        default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$"
    ),
    record_type: RecordType | None = Query(default=None),
    record_id: int | None = Query(default=None, ge=1, le=MAX_INT),
    query_status: StatusFilter | None = Query(default=None, alias="status"),
) -> queries.QueryFilter:
    return queries.QueryFilter(study_id, site_id, record_type, record_id, query_status)


@router.get(
    "",
    response_model=list[QueryOut],
    summary="Data queries you may read, newest first (site staff: their site)",
    responses=responses(401, 403, 404, 422),
)
def list_queries(
    flt: queries.QueryFilter = Depends(_filter),
    user: CurrentUser = Depends(require("query.read")),
    rt: Runtime = Depends(runtime),
) -> list[QueryOut]:
    with user.uow(rt, readonly=True) as uow:
        return [QueryOut(**q) for q in queries.list_queries(uow, flt)]


@router.get(
    "/summary",
    response_model=QuerySummaryOut,
    summary="Unresolved queries you may read: by status and by age (<7, 7-30, >30 days)",
    responses=responses(401, 403, 404, 422),
)
def summary(
    flt: queries.QueryFilter = Depends(_filter),
    user: CurrentUser = Depends(require("query.read")),
    rt: Runtime = Depends(runtime),
) -> QuerySummaryOut:
    with user.uow(rt, readonly=True) as uow:
        return QuerySummaryOut.model_validate(queries.summary(uow, flt))


@router.post(
    "",
    response_model=QueryOut,
    status_code=status.HTTP_201_CREATED,
    summary="Raise a query on a field of a participant's record (monitor, data manager, "
    "statistician)",
    responses=responses(401, 403, 404, 422),
)
def raise_query(
    body: QueryIn,
    user: CurrentUser = Depends(require("query.raise")),
    rt: Runtime = Depends(runtime),
) -> QueryOut:
    with user.uow(rt) as uow:
        q = queries.raise_query(
            uow,
            body.study_id,
            record_type=body.record_type,
            record_id=body.record_id,
            field=body.field,
            question=body.question,
        )
        query_id = q.id
    return _then_read(user, rt, query_id)


@router.get(
    "/{query_id}",
    response_model=QueryOut,
    summary="One query and its thread",
    responses=responses(401, 403, 404, 422),
)
def read_query(
    query_id: int = QueryId,
    user: CurrentUser = Depends(require("query.read")),
    rt: Runtime = Depends(runtime),
) -> QueryOut:
    return _then_read(user, rt, query_id)


def _then_read(user: CurrentUser, rt: Runtime, query_id: int) -> QueryOut:
    with user.uow(rt, readonly=True) as uow:
        return QueryOut(**queries.read_query(uow, query_id))


def _step(
    act: Callable[[Any, int, Any], object],
    user: CurrentUser,
    rt: Runtime,
    query_id: int,
    text: str | None,
) -> QueryOut:
    """One step of a query's thread (answer, close, re-open) by its service act, then the
    query as it now reads."""
    with user.uow(rt) as uow:
        act(uow, query_id, text)
    return _then_read(user, rt, query_id)


@router.post(
    "/{query_id}/answers",
    response_model=QueryOut,
    summary="Answer a query (the participant's site)",
    responses=responses(401, 403, 404, 409, 422),
)
def answer(
    body: AnswerIn,
    query_id: int = QueryId,
    user: CurrentUser = Depends(require("query.answer")),
    rt: Runtime = Depends(runtime),
) -> QueryOut:
    return _step(queries.answer_query, user, rt, query_id, body.text)


@router.post(
    "/{query_id}/close",
    response_model=QueryOut,
    summary="Close a query (who raised it, or a data manager)",
    responses=responses(401, 403, 404, 409, 422),
)
def close(
    body: CloseIn,
    query_id: int = QueryId,
    user: CurrentUser = Depends(require("query.raise")),
    rt: Runtime = Depends(runtime),
) -> QueryOut:
    return _step(queries.close_query, user, rt, query_id, body.text)


@router.post(
    "/{query_id}/reopen",
    response_model=QueryOut,
    summary="Re-open a query, saying why (who raised it, or a data manager)",
    responses=responses(401, 403, 404, 409, 422),
)
def reopen(
    body: ReopenIn,
    query_id: int = QueryId,
    user: CurrentUser = Depends(require("query.raise")),
    rt: Runtime = Depends(runtime),
) -> QueryOut:
    return _step(queries.reopen_query, user, rt, query_id, body.text)
