"""User accounts (administrators only): list, create, read, change, unlock, reset password;
and ``/users/me``, where every signed-in user reads their own account and sets their language.

Every change is an audited act; role, site, name and active-flag changes need a reason.
``/users/me`` is declared before ``/users/{username}``; no username can be ``me`` (three
characters at least).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy import select

from dosewise.api.auth import CurrentUser, Runtime, current_user, require, runtime
from dosewise.api.errors import responses
from dosewise.api.schemas import (
    NO_NUL,
    MyAccountUpdate,
    PasswordIssued,
    ReasonBody,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)
from dosewise.store.tables import User
from dosewise.trial import access

router = APIRouter(prefix="/users", tags=["users"])
ERRORS = responses(401, 403, 422)
UsernamePath = Path(min_length=1, max_length=64, pattern=NO_NUL, examples=["inv.beijing"])


@router.get("", response_model=list[UserOut], summary="All user accounts", responses=ERRORS)
def list_users(
    user: CurrentUser = Depends(require("user.read")), rt: Runtime = Depends(runtime)
) -> list[UserOut]:
    now = rt.clock()
    with user.uow(rt, readonly=True) as uow:
        return [UserOut.of(u, now) for u in uow.session.scalars(select(User).order_by(User.id))]


@router.post(
    "",
    response_model=UserCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user (a random password is generated unless one is given)",
    responses=responses(401, 403, 409, 422),
)
def create_user(
    body: UserCreate,
    user: CurrentUser = Depends(require("user.manage")),
    rt: Runtime = Depends(runtime),
) -> UserCreated:
    with user.uow(rt) as uow:
        created, generated = access.create_user(
            uow,
            rt.passwords,
            rt.settings,
            username=body.username,
            full_name=body.full_name,
            role=body.role,
            site_id=body.site_id,
            password=body.password,
        )
    return UserCreated(user=UserOut.of(created, rt.clock()), generated_password=generated)


@router.get("/me", response_model=UserOut, summary="My own account", responses=responses(401))
def get_me(user: CurrentUser = Depends(current_user), rt: Runtime = Depends(runtime)) -> UserOut:
    with user.uow(rt, readonly=True) as uow:
        return UserOut.of(uow.get(User, _own_id(user)), rt.clock())


@router.patch(
    "/me",
    response_model=UserOut,
    summary="Set my interface language (zh_CN, en; null: not chosen)",
    responses=responses(401, 403, 422),
)
def update_me(
    body: MyAccountUpdate,
    user: CurrentUser = Depends(current_user),
    rt: Runtime = Depends(runtime),
) -> UserOut:
    with user.uow(rt) as uow:
        changed = access.set_own_locale(uow, body.locale)
    return UserOut.of(changed, rt.clock())


def _own_id(user: CurrentUser) -> int:
    if user.actor.user_id is None:  # pragma: no cover - sessions always belong to users
        raise access.NotAuthenticated("user", None, "no user")
    return user.actor.user_id


@router.get(
    "/{username}",
    response_model=UserOut,
    summary="One user account",
    responses=responses(401, 403, 404, 422),
)
def get_user(
    username: str = UsernamePath,
    user: CurrentUser = Depends(require("user.read")),
    rt: Runtime = Depends(runtime),
) -> UserOut:
    with user.uow(rt, readonly=True) as uow:
        return UserOut.of(access.find_user(uow, username), rt.clock())


@router.patch(
    "/{username}",
    response_model=UserOut,
    summary="Change role, site, name or active flag (reason required)",
    responses=responses(401, 403, 404, 422),
)
def update_user(
    body: UserUpdate,
    username: str = UsernamePath,
    user: CurrentUser = Depends(require("user.manage")),
    rt: Runtime = Depends(runtime),
) -> UserOut:
    with user.uow(rt) as uow:
        changed = access.update_user(
            uow,
            username,
            reason=body.reason,
            role=body.role,
            site_id=body.site_id,
            clear_site=body.clear_site,
            full_name=body.full_name,
            active=body.active,
        )
    return UserOut.of(changed, rt.clock())


@router.post(
    "/{username}/unlock",
    response_model=UserOut,
    summary="Lift a lock-out (reason required)",
    responses=responses(401, 403, 404, 422),
)
def unlock_user(
    body: ReasonBody,
    username: str = UsernamePath,
    user: CurrentUser = Depends(require("user.manage")),
    rt: Runtime = Depends(runtime),
) -> UserOut:
    with user.uow(rt) as uow:
        return UserOut.of(access.unlock_user(uow, username, reason=body.reason), rt.clock())


@router.post(
    "/{username}/reset-password",
    response_model=PasswordIssued,
    summary="Issue a new random password (shown once) and end the user's sessions",
    responses=responses(401, 403, 404, 422),
)
def reset_password(
    body: ReasonBody,
    username: str = UsernamePath,
    user: CurrentUser = Depends(require("user.manage")),
    rt: Runtime = Depends(runtime),
) -> PasswordIssued:
    with user.uow(rt) as uow:
        changed, password = access.reset_password(uow, rt.passwords, username, reason=body.reason)
    return PasswordIssued(user=UserOut.of(changed, rt.clock()), generated_password=password)
