"""Login, logout, who am I, change my password, and the permission matrix."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from dosewise.api.auth import (
    CurrentUser,
    Runtime,
    clear_session_cookie,
    csrf_token,
    current_user,
    request_context,
    runtime,
    set_session_cookie,
)
from dosewise.api.errors import responses
from dosewise.api.schemas import LoginRequest, LoginResponse, PasswordChange, PermissionRow, UserOut
from dosewise.store.tables import User
from dosewise.trial import access
from dosewise.trial.audit import Actor
from dosewise.trial.uow import NotFound

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=LoginResponse,
    summary="Log in: a bearer token (and a session cookie for browsers)",
    responses=responses(401, 422),
)
def login(
    body: LoginRequest, request: Request, response: Response, rt: Runtime = Depends(runtime)
) -> LoginResponse:
    context = request_context(request)
    client = f"{context['client']} {request.headers.get('user-agent', '')}".strip()
    with rt.uow(Actor.system("anonymous"), context=context) as uow:
        result = access.login(
            uow, rt.passwords, rt.settings, body.username, body.password, client=client
        )
    set_session_cookie(response, rt.settings, result.token)
    return LoginResponse(
        access_token=result.token,
        expires_at=result.expires_at,
        csrf_token=csrf_token(result.token),
        user=UserOut.of(result.user, rt.clock()),
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session",
    responses=responses(401, 403),
)
def logout(
    response: Response, user: CurrentUser = Depends(current_user), rt: Runtime = Depends(runtime)
) -> Response:
    with user.uow(rt) as uow:
        access.logout(uow, user.session_id)
    response.status_code = status.HTTP_204_NO_CONTENT
    clear_session_cookie(response, rt.settings)
    return response


@router.get("/me", response_model=UserOut, summary="The logged-in user", responses=responses(401))
def me(user: CurrentUser = Depends(current_user), rt: Runtime = Depends(runtime)) -> UserOut:
    with user.uow(rt, readonly=True) as uow:
        if user.actor.user_id is None:  # pragma: no cover - sessions always belong to users
            raise NotFound("user", None, "no user")
        found = uow.get(User, user.actor.user_id)
    return UserOut.of(found, rt.clock())


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password (re-enter the current one); ends my other sessions",
    responses=responses(401, 403, 422),
)
def change_password(
    body: PasswordChange,
    user: CurrentUser = Depends(current_user),
    rt: Runtime = Depends(runtime),
) -> Response:
    assert user.actor.user_id is not None
    with user.uow(rt) as uow:
        access.change_password(
            uow,
            rt.passwords,
            rt.settings,
            user.actor.user_id,
            current=body.current_password,
            new=body.new_password,
            keep_session=user.session_id,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/permissions",
    response_model=list[PermissionRow],
    summary="The permission matrix: action × role → scope (all, site, -)",
    responses=responses(401),
)
def permissions(_user: CurrentUser = Depends(current_user)) -> list[PermissionRow]:
    return [PermissionRow(**row) for row in access.matrix()]
