"""A throwaway PostgreSQL for the store, trial and API tests, and fresh databases per test.

:func:`server_url` uses ``DATABASE_URL`` when it is set (CI may start one server for the
whole run); otherwise it starts its own server on 127.0.0.1 with Debian's
``initdb``/``pg_ctl`` as the ``postgres`` user (initdb refuses root) in a ``/tmp`` directory,
and stops it and removes the directory afterwards. Each pytest-xdist worker gets its own server
(and its own database names), so ``-n 2`` works. The tests are skipped only when the server
binaries are absent.

Databases: one migrated *template* per backend and worker (schema, the protocol's sites and
arms, and one user per role); each test gets a copy — a file copy on SQLite, ``CREATE DATABASE
... TEMPLATE`` on PostgreSQL — so tests never see each other's rows.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from dosewise.settings import Settings, cheap_hashing
from dosewise.store import migrate
from dosewise.store.session import Database, open_database
from dosewise.trial import access, bootstrap
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
#: Every test user's password.
PASSWORD = "correct horse battery staple"
#: username → (role, site): one user per role, site staff at two sites, two kinds of monitor.
USERS: dict[str, tuple[str, str | None]] = {
    "admin1": ("admin", None),
    "inv1": ("investigator", "S01"),
    "inv2": ("investigator", "S02"),
    "coord1": ("coordinator", "S01"),
    "coord2": ("coordinator", "S02"),
    "stat": ("statistician", None),
    "dsmb": ("dsmb", None),
    "mon1": ("monitor", "S01"),
    "monall": ("monitor", None),
    "dm1": ("data_manager", None),
}
BACKENDS = ("sqlite", "postgresql")
INITDB_ARGS = ("-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")


def make_settings(url: str) -> Settings:
    """Settings for tests: cheap Argon2, durable SQLite as in production."""
    return cheap_hashing(Settings(database_url=url))


class FakeClock:
    """A clock the test moves by hand (token expiry, lock-out durations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


# --------------------------------------------------------------------------- the server


def _pgbin() -> str | None:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    return dirs[-1] if dirs and os.path.exists(f"{dirs[-1]}/initdb") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_cache: dict[str, object] = {}


def server_url() -> str:
    """The URL of a PostgreSQL server's maintenance database, started once per process.

    Started lazily on first use and stopped when the process exits, so that however many
    conftest files import the fixtures, a worker runs one server.
    """
    if "server" in _cache:
        return str(_cache["server"])
    if os.environ.get("DATABASE_URL"):
        url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
        _cache["server"] = url.set(database="postgres").render_as_string(hide_password=False)
        return str(_cache["server"])
    pgbin = _pgbin()
    if pgbin is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install -y postgresql)")
    port = _free_port()
    root = tempfile.mkdtemp(prefix="pgtest.", dir="/tmp")  # not tmp_path: 0700 for root only
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    try:
        subprocess.run(
            [*as_pg, f"{pgbin}/initdb", "-D", data, *INITDB_ARGS],
            check=True,
            capture_output=True,
            cwd=root,
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        start = ["-w", "-t", "60", "-o", opts, "start"]
        subprocess.run(
            [*as_pg, f"{pgbin}/pg_ctl", "-D", data, "-l", f"{root}/server.log", *start],
            check=True,
            capture_output=True,
            cwd=root,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr!r}") from exc

    def stop() -> None:
        subprocess.run(
            [*as_pg, f"{pgbin}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
            cwd=root,
        )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    _cache["server"] = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return str(_cache["server"])


def _admin(server_url: str) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def create_pg_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (optionally as a copy of ``template``); its URL."""
    engine = _admin(server_url)
    try:
        with engine.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            suffix = f' TEMPLATE "{template}"' if template else ""
            c.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    finally:
        engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, name: str) -> None:
    engine = _admin(server_url)
    try:
        with engine.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- templates


def populate(url: str) -> None:
    """Migrate ``url`` and load the protocol's sites and arms and the test users."""
    settings = make_settings(url)
    db = open_database(settings)
    try:
        migrate.upgrade(db.engine)
        system = Actor.system("test-setup")
        with UnitOfWork(db, system) as uow:
            bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
        add_test_users(db, settings)
    finally:
        db.dispose()


def add_test_users(db: Database, settings: Settings) -> None:
    """Create :data:`USERS` (password :data:`PASSWORD`) in a migrated database."""
    passwords = access.Passwords(settings)
    for username, (role, site) in USERS.items():
        with UnitOfWork(db, Actor.system("test-setup")) as uow:
            access.create_user(
                uow,
                passwords,
                settings,
                username=username,
                full_name=f"Test {username}",
                role=role,
                site_id=site,
                password=PASSWORD,
                one_time=False,  # the fixtures' users act at once; tests of one-time passwords
            )


_counter = itertools.count()


def sqlite_template() -> Path:
    """A migrated, populated SQLite file (made once per process)."""
    if "sqlite" not in _cache:
        root = Path(tempfile.mkdtemp(prefix="dosewise-tmpl."))
        atexit.register(shutil.rmtree, root, True)
        populate(f"sqlite:///{root / 'template.db'}")
        _cache["sqlite"] = root / "template.db"
    return Path(str(_cache["sqlite"]))


def pg_template() -> str:
    """The name of a migrated, populated PostgreSQL template database (once per process)."""
    if "pg_template" not in _cache:
        server = server_url()
        name = f"dosewise_tmpl_{WORKER}"
        populate(create_pg_database(server, name))
        atexit.register(_drop_quietly, server, name)
        _cache["pg_template"] = name
    return str(_cache["pg_template"])


def _drop_quietly(server: str, name: str) -> None:
    with contextlib.suppress(Exception):  # the server may already be gone
        drop_pg_database(server, name)


def fresh_url(backend: str, tmp_path: Path, *, empty: bool = False) -> Iterator[str]:
    """A fresh database URL for one test: a copy of the template, or an empty database."""
    if backend == "sqlite":
        path = tmp_path / "dosewise.db"
        if not empty:
            shutil.copyfile(sqlite_template(), path)
        yield f"sqlite:///{path}"
        return
    server = server_url()
    tmpl = None if empty else pg_template()
    name = f"dosewise_{WORKER}_{next(_counter)}"
    url = create_pg_database(server, name, template=tmpl)
    try:
        yield url
    finally:
        drop_pg_database(server, name)


def backend_params() -> list[object]:
    """``sqlite`` and ``postgresql`` (marked ``postgres``) as fixture parameters."""
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated and populated database of the parametrised backend."""
    yield from fresh_url(backend, tmp_path)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no schema) of the parametrised backend."""
    yield from fresh_url(backend, tmp_path, empty=True)


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated and populated PostgreSQL database (for PostgreSQL-only tests)."""
    yield from fresh_url("postgresql", tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def passwords() -> access.Passwords:
    return access.Passwords(make_settings("sqlite://"))
