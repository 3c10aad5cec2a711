"""Reference data from the protocol (sites, arms, the protocol text) and the first administrator.

Both are idempotent and audited as acts of the system: ``dosewise db upgrade`` loads the
reference data, and the first ``dosewise serve`` on an empty user table creates an ``admin``
with a random password printed once (there are no default passwords).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from dosewise.protocol import Protocol, default_protocol, default_text, load_protocol
from dosewise.settings import Settings
from dosewise.store.tables import Arm, ProtocolVersion, Site, User
from dosewise.trial.access import Passwords, create_user
from dosewise.trial.uow import UnitOfWork

#: Time zones of the registry's countries, for a site whose protocol entry names no ``timezone``
#: (a site's own zone can be changed afterwards).
COUNTRY_TIMEZONES = {"China": "Asia/Shanghai"}
FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class LoadedProtocol:
    protocol: Protocol
    text: str
    source: str


def protocol_for(settings: Settings) -> LoadedProtocol:
    """The protocol the service runs: ``DOSEWISE_PROTOCOL_PATH`` or the embedded NCT07070323."""
    if settings.protocol_path:
        path = Path(settings.protocol_path)
        return LoadedProtocol(load_protocol(path), path.read_text(encoding="utf-8"), str(path))
    return LoadedProtocol(default_protocol(), default_text(), "embedded:nct07070323.yaml")


def site_code(number: int) -> str:
    """Site ids are short and stable: ``S01``, ``S02`` ... in registry order of first load."""
    return f"S{number:02d}"


@dataclass(frozen=True)
class ReferenceData:
    protocol_version_id: int
    sites_added: tuple[str, ...]
    arms_added: tuple[str, ...]


def ensure_reference_data(uow: UnitOfWork, loaded: LoadedProtocol) -> ReferenceData:
    """Add the protocol version, its sites and its arms if missing; committed (audited)."""
    session = uow.session
    now = uow.now()
    digest = hashlib.sha256(loaded.text.encode("utf-8")).hexdigest()
    uow.act("setup.reference_data")
    version = session.scalar(select(ProtocolVersion).where(ProtocolVersion.sha256 == digest))
    if version is None:
        version = uow.add(
            ProtocolVersion(
                nct_id=loaded.protocol.registry.nct_id,
                sha256=digest,
                source=loaded.source[:300],
                text=loaded.text,
                loaded_at=now,
            )
        )
        uow.flush()
    existing = {s.name: s for s in session.scalars(select(Site))}
    sites_added = []
    for registry_site in loaded.protocol.registry.sites:
        if registry_site.name in existing:
            continue
        code = site_code(len(existing) + 1)
        site = uow.add(
            Site(
                id=code,
                name=registry_site.name,
                city=registry_site.city,
                region=registry_site.region,
                country=registry_site.country,
                timezone=registry_site.timezone
                or COUNTRY_TIMEZONES.get(registry_site.country, "UTC"),
                status=registry_site.status,
                active=True,
                created_at=now,
            )
        )
        existing[site.name] = site
        sites_added.append(code)
    arms_added = []
    design = loaded.protocol.design
    for arm in loaded.protocol.arms:
        if session.get(Arm, arm.id) is not None:
            continue
        uow.add(
            Arm(
                id=arm.id,
                label=arm.label,
                design=design.method,
                phase="phase1",
                phase1_max_n=design.phase1_max_n(arm.id),
                phase2_expansion=design.phase2_expansion(arm.id),
                protocol_version_id=version.id,
                version=0,
                updated_at=now,
            )
        )
        arms_added.append(arm.id)
    uow.commit()
    return ReferenceData(version.id, tuple(sites_added), tuple(arms_added))


def user_count(uow: UnitOfWork) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(User)) or 0)


def ensure_first_admin(
    uow: UnitOfWork, passwords: Passwords, settings: Settings
) -> tuple[str, str] | None:
    """On an empty user table, create ``admin`` with a random password; (username, password).

    None when any user exists already (nothing is created, nothing is printed).
    """
    if user_count(uow) > 0:
        return None
    user, password = create_user(
        uow,
        passwords,
        settings,
        username=FIRST_ADMIN,
        full_name="Administrator",
        role="admin",
    )
    assert password is not None
    return user.username, password
