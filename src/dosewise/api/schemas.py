"""Request and response bodies of the foundation routes (auth, users, sites, audit, health).

Every text field refuses NUL characters and has a length limit, so that no input can reach the
database in a form it rejects (which would otherwise surface as a 500).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dosewise.store.tables import LOCALES, ROLES, Site, User

#: Any printable text without NUL (PostgreSQL refuses NUL in text).
NO_NUL = r"^[^\x00]*$"
RoleName = Literal[
    "admin", "investigator", "coordinator", "statistician", "dsmb", "monitor", "data_manager"
]
assert tuple(RoleName.__args__) == ROLES  # type: ignore[attr-defined]
#: The interface languages the web pages ship (and a user may store).
LocaleName = Literal["zh_CN", "en"]
assert tuple(LocaleName.__args__) == LOCALES  # type: ignore[attr-defined]

#: Login names: 3-64 characters, letters (stored lower case), digits, '.', '_', '-'.
NewUsername = Annotated[
    str,
    Field(
        min_length=3,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$",
        examples=["inv.beijing"],
    ),
]
#: A name typed at login (anything; unknown names are simply refused).
Username = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=NO_NUL, examples=["inv.beijing"]),
]
Password = Annotated[
    str, Field(min_length=1, max_length=256, pattern=NO_NUL, examples=["a long pass phrase"])
]
Reason = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        pattern=r"^[^\x00]*\S[^\x00]*$",
        description="Why (recorded in the audit trail)",
        examples=["role corrected: the user is the site's principal investigator"],
    ),
]
SiteId = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- auth


class LoginRequest(Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "inv.beijing", "password": "••••••••••••"}]},
    )

    username: Username
    password: Password


class UserOut(BaseModel):
    """A user account as others see it (never the password hash)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "inv.beijing",
                    "full_name": "Dr Li Wei",
                    "role": "investigator",
                    "site_id": "S01",
                    "active": True,
                    "locked": False,
                    "failed_logins": 0,
                    "last_login_at": "2026-11-26T08:00:00Z",
                    "locale": "zh_CN",
                    "must_change_password": False,
                }
            ]
        }
    )

    username: str
    full_name: str
    role: str
    site_id: str | None
    active: bool
    locked: bool
    failed_logins: int
    last_login_at: datetime | None
    locale: str | None = Field(
        description="The interface language the user chose (null: not chosen yet)",
        examples=["zh_CN"],
    )
    must_change_password: bool = Field(
        default=False,
        description="The password was set by an administrator (or is the first administrator's "
        "printed one): the user must choose their own (POST /api/v1/auth/password) before "
        "anything else is allowed",
    )

    @classmethod
    def of(cls, user: User, now: datetime) -> UserOut:
        locked = user.locked_until is not None and now < user.locked_until
        return cls(
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            site_id=user.site_id,
            active=user.active,
            locked=locked,
            failed_logins=user.failed_logins,
            last_login_at=user.last_login_at,
            locale=user.locale,
            must_change_password=bool(user.must_change_password),
        )


class LoginResponse(BaseModel):
    """A new session. Send ``Authorization: Bearer <access_token>``; browsers get a cookie and
    must echo ``csrf_token`` in ``X-CSRF-Token`` on every non-GET request."""

    access_token: str = Field(examples=["q0V8m1...base64url..."])
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    csrf_token: str
    user: UserOut


class PasswordChange(Model):
    current_password: Password
    new_password: Password


class PermissionRow(BaseModel):
    action: str
    description: str
    admin: str
    investigator: str
    coordinator: str
    statistician: str
    dsmb: str
    monitor: str


# --------------------------------------------------------------------------- users


class UserCreate(Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "coord.shanghai",
                    "full_name": "Zhang Min",
                    "role": "coordinator",
                    "site_id": "S02",
                }
            ]
        },
    )

    username: NewUsername
    full_name: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$", examples=["Zhang Min"]
    )
    role: RoleName
    site_id: SiteId | None = None
    password: Password | None = Field(
        default=None, description="Leave out to have a random password generated (shown once)"
    )


class UserCreated(BaseModel):
    user: UserOut
    generated_password: str | None = Field(
        description="The random password, shown only in this response (null if one was "
        "given). Either is one-time: the user must choose their own at first sign-in"
    )


class UserUpdate(Model):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "investigator", "reason": "promoted to sub-investigator"}]
        },
    )

    reason: Reason
    role: RoleName | None = None
    site_id: SiteId | None = None
    clear_site: bool = Field(default=False, description="Remove the user's site")
    full_name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    active: bool | None = None


class MyAccountUpdate(Model):
    """What a user may change on their own account without a reason."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"locale": "zh_CN"}]})

    locale: LocaleName | None = Field(
        description="Interface language: zh_CN or en; null clears the choice (the browser decides)"
    )


class ReasonBody(Model):
    reason: Reason


class PasswordIssued(BaseModel):
    user: UserOut
    generated_password: str = Field(
        description="Shown only in this response; one-time: the user must replace it at next "
        "sign-in before doing anything else"
    )


# --------------------------------------------------------------------------- sites


class SiteOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "S01",
                    "name": "Beijing GoBroad Hospital",
                    "city": "Beijing",
                    "region": "Beijing Municipality",
                    "country": "China",
                    "timezone": "Asia/Shanghai",
                    "status": "RECRUITING",
                    "active": True,
                }
            ]
        }
    )

    id: str
    name: str
    city: str
    region: str | None
    country: str
    timezone: str
    status: str
    active: bool

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            name=site.name,
            city=site.city,
            region=site.region,
            country=site.country,
            timezone=site.timezone,
            status=site.status,
            active=site.active,
        )


# --------------------------------------------------------------------------- audit


class AuditRecordOut(BaseModel):
    """One audit record: who, what (before/after), when (UTC), where (site), why."""

    seq: int
    txn: str
    recorded_at: str = Field(examples=["2026-11-26T08:00:00.000000Z"])
    user_id: int | None
    username: str
    role: str | None
    site_id: str | None
    action: str = Field(examples=["user.update"])
    entity: str = Field(examples=["users"])
    entity_id: str | None
    operation: Literal["insert", "update", "delete", "event"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    context: dict[str, Any] | None
    prev_hash: str
    hash: str
    names: dict[str, str] = Field(
        default_factory=dict,
        description="The names of ids in before/after: user ids (created_by ...) as usernames, "
        "participant_id (and a participants row's entity_id) as the study ID",
        examples=[{"created_by": "coord.beijing", "participant_id": "S01-0001"}],
    )
    subject: str | None = Field(
        default=None,
        description="Whom an account event is about (the user signing in), when not the actor",
    )
    #: Another site's participants were taken out of this record for a user of one site
    #: (``dosewise.trial.confidential``): its hash no longer matches what is shown.
    redacted: bool = False


class AuditPage(BaseModel):
    records: list[AuditRecordOut]
    next_after_seq: int | None = Field(
        description="Pass as after_seq for the next page (null on the last page; oldest first)"
    )
    next_before_seq: int | None = Field(
        default=None,
        description="With order=desc: pass as before_seq for the next (older) page",
    )
    total: int | None = Field(default=None, description="How many records match the filters")


class ChainProblemOut(BaseModel):
    seq: int | None
    kind: str
    detail: str


class ChainReportOut(BaseModel):
    ok: bool
    records: int
    last_seq: int
    last_hash: str
    problem_count: int
    problems: list[ChainProblemOut]


# --------------------------------------------------------------------------- health


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "version": "0.1.0",
                    "database": "sqlite",
                    "revision": "0001",
                    "head": "0001",
                    "up_to_date": True,
                }
            ]
        }
    )

    status: Literal["ok", "not_migrated"]
    version: str
    database: str = Field(
        description="The database kind (sqlite or postgresql), never its location: anyone may "
        "ask (`dosewise db status` on the server names the database)",
        examples=["sqlite"],
    )
    revision: str | None
    head: str
    up_to_date: bool
