"""Product release: certificate → CAR+ viable T cells → feasibility → planned vs given level."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dosewise.api.auth import CurrentUser, Runtime, require, runtime
from dosewise.api.errors import responses
from dosewise.api.routers._trial_outputs import ProductOut
from dosewise.api.routers._trial_schemas import ProductIn, StudyIdPath
from dosewise.api.routers._trial_views import product_out
from dosewise.trial.esign import Signing
from dosewise.trial.services import products

router = APIRouter(prefix="/participants", tags=["products"])


@router.post(
    "/{study_id}/products",
    response_model=ProductOut,
    status_code=status.HTTP_201_CREATED,
    summary="Release (or reject) a product for the confirmed dose; fallback to DL-1 if short",
    responses=responses(401, 403, 404, 409, 422, 423),
)
def release(
    body: ProductIn,
    study_id: str = StudyIdPath,
    user: CurrentUser = Depends(require("product.release")),
    rt: Runtime = Depends(runtime),
) -> ProductOut:
    signing = None
    if body.password is not None:
        signing = Signing(rt.passwords, rt.settings, body.password, "approval")
    with user.uow(rt) as uow:
        prod = products.release_product(
            uow,
            study_id,
            lot=body.lot,
            certificate=body.certificate.model_dump(),
            weight_kg=body.weight_kg,
            released_on=body.released_on,
            signing=signing,
            correction_reason=body.correction_reason,
        )
        return product_out(uow, prod, study_id)
