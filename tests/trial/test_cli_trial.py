"""The trial CLI: ``db upgrade|check``, ``user add|list``, ``audit verify|export``, ``serve``.

``serve`` must refuse an unmigrated database, saying which command to run, and on its first start
against an empty user table create an administrator with a random password printed once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dosewise.cli.app import main
from dosewise.cli.trial import prepare_service
from dosewise.settings import get_settings
from dosewise.store import migrate
from dosewise.store.session import open_database
from dosewise.trial import access
from dosewise.trial.audit import Actor
from dosewise.trial.uow import UnitOfWork
from pg import USERS, make_settings, sqlite_template

CHEAP = {
    "DOSEWISE_ARGON2_TIME_COST": "1",
    "DOSEWISE_ARGON2_MEMORY_KIB": "8",
    "DOSEWISE_ARGON2_PARALLELISM": "1",
}
DOSEWISE = Path(sys.executable).with_name("dosewise")


@pytest.fixture(autouse=True)
def cheap_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in CHEAP.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DOSEWISE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_serve_refuses_an_unmigrated_database_and_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    with pytest.raises(migrate.DatabaseNotMigrated, match="run `dosewise db upgrade`"):
        prepare_service(make_settings(url))
    code, out, err = run(["serve", "--database-url", url, "--port", str(_free_port())], capsys)
    assert code == 2
    assert err.startswith("error: database=") and "run `dosewise db upgrade`" in err
    assert out == ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_a_busy_port_says_so_and_how_to_choose_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = int(taken.getsockname()[1])
        code, out, err = run(["serve", "--database-url", url, "--port", str(port)], capsys)
    assert code == 2 and out == ""  # nothing claims to be serving, no administrator created
    assert f"port={port}" in err and "already in use" in err
    assert f"DOSEWISE_PORT={port + 1}" in err and f"--port {port + 1}" in err


def test_db_check_then_upgrade_then_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    code, out, _ = run(["db", "check", "--database-url", url, "--json"], capsys)
    assert code == 1
    assert json.loads(out)["problems"] == ["not migrated: run `dosewise db upgrade`"]
    code, out, _ = run(["db", "upgrade", "--database-url", url, "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and result["up_to_date"] is True
    assert result["sites_added"] == ["S01", "S02", "S03", "S04"]
    assert result["arms_added"] == ["autologous", "prior_sct_donor", "new_donor"]
    code, out, _ = run(["db", "check", "--database-url", url, "--json"], capsys)
    assert code == 0 and json.loads(out)["counts"] == {"users": 0, "sites": 4, "arms": 3}
    code, out, _ = run(["db", "upgrade", "--database-url", url, "--json"], capsys)
    assert json.loads(out)["sites_added"] == []  # idempotent


def _migrated_without_users(url: str) -> None:
    db = open_database(make_settings(url))
    migrate.upgrade(db.engine)
    db.dispose()


def test_first_start_creates_one_admin_with_a_random_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    _migrated_without_users(url)
    settings = make_settings(url)
    first, admin = prepare_service(settings)
    try:
        assert admin is not None and admin[0] == "admin" and len(admin[1]) >= 20
        passwords = access.Passwords(settings)
        with UnitOfWork(first, Actor.system()) as uow:
            assert access.login(uow, passwords, settings, "admin", admin[1]).user.role == "admin"
    finally:
        first.dispose()
    second, again = prepare_service(settings)
    second.dispose()
    assert again is None


def test_two_starts_never_share_a_password(tmp_path: Path) -> None:
    for name in ("a", "b"):
        _migrated_without_users(f"sqlite:///{tmp_path}/{name}.db")
    a = prepare_service(make_settings(f"sqlite:///{tmp_path}/a.db"))
    b = prepare_service(make_settings(f"sqlite:///{tmp_path}/b.db"))
    for db, _ in (a, b):
        db.dispose()
    assert a[1] is not None and b[1] is not None and a[1][1] != b[1][1]


@pytest.fixture
def migrated_url(tmp_path: Path) -> str:
    path = tmp_path / "m.db"
    shutil.copyfile(sqlite_template(), path)
    return f"sqlite:///{path}"


def test_user_add_and_list(migrated_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["user", "add", "--username", "coord3", "--role", "coordinator", "--site", "S03"]
    code, out, _ = run([*args, "--generate", "--database-url", migrated_url, "--json"], capsys)
    created = json.loads(out)
    assert code == 0 and created["site_id"] == "S03" and len(created["generated_password"]) >= 20
    assert created["must_change_password"] is True  # one-time: replaced at first sign-in
    code, out, err = run(
        ["user", "add", "--username", "x1y", "--role", "nurse", "--database-url", migrated_url],
        capsys,
    )
    assert code == 2 and "role='nurse'" in err
    code, out, _ = run(["user", "list", "--database-url", migrated_url, "--json"], capsys)
    users = {u["username"]: u for u in json.loads(out)["users"]}
    assert users["coord3"]["role"] == "coordinator" and "password_hash" not in users["coord3"]
    assert len(users) == len(USERS) + 1


def test_audit_verify_and_export(
    migrated_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["audit", "verify", "--database-url", migrated_url, "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    target = tmp_path / "trail.json"
    code, out, _ = run(
        ["audit", "export", "--out", str(target), "--database-url", migrated_url, "--json"],
        capsys,
    )
    assert code == 0 and json.loads(out)["records"] == report["records"]
    assert len(json.loads(target.read_text())["records"]) == report["records"]
    code, out, _ = run(["audit", "verify", "--database-url", migrated_url, "--json"], capsys)
    assert json.loads(out)["records"] == report["records"] + 1  # the export was logged
    code, _, err = run(
        ["audit", "export", "--out", str(tmp_path / "x.txt"), "--database-url", migrated_url],
        capsys,
    )
    assert code == 2 and "csv or json" in err


def test_audit_verify_exits_1_on_a_tampered_trail(
    migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = migrated_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as c:
        c.execute("DROP TRIGGER audit_records_no_update")
        c.execute("UPDATE audit_records SET action = 'nothing.happened' WHERE seq = 3")
    code, out, _ = run(["audit", "verify", "--database-url", migrated_url], capsys)
    assert code == 1 and "BROKEN" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_upgrade_and_serve_from_any_directory_with_the_installed_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Migrations come from the installed package (any working directory will do); then the
    installed ``dosewise serve`` answers on loopback and prints the first administrator's
    password, which works."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(["db", "upgrade", "--database-url", "sqlite:///./here.db", "--json"], capsys)
    assert code == 0 and json.loads(out)["current"] == migrate.head_revision()
    assert (elsewhere / "here.db").exists()
    env = {**os.environ, **CHEAP, "DOSEWISE_DATABASE_URL": "sqlite:///./here.db"}

    port = _free_port()
    proc = subprocess.Popen(
        [str(DOSEWISE), "serve", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while not lines or "serving on" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        base = f"http://127.0.0.1:{port}/api/v1"
        health = None
        for _ in range(100):
            try:
                health = httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200
        assert health.json()["up_to_date"] is True
        banner = next(line for line in lines if "first administrator" in line)
        password = banner.split("password ")[1].strip().strip("'")
        login = httpx.post(f"{base}/auth/login", json={"username": "admin", "password": password})
        assert login.status_code == 200 and login.json()["user"]["role"] == "admin"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_user_add_refusals_read_in_the_chosen_language(
    migrated_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16 item 1: ``dosewise --lang zh`` (or DOSEWISE_LANG) renders a service's refusal
    from its code; English stays the default and reads as before."""
    monkeypatch.delenv("DOSEWISE_LANG", raising=False)
    args = ["user", "add", "--username", "xuser", "--generate", "--database-url", migrated_url]
    code, _, err = run([*args, "--role", "nurse"], capsys)
    assert code == 2 and err.startswith("error: role='nurse': must be one of admin, investigator")
    code, _, err = run(["--lang", "zh", *args, "--role", "nurse"], capsys)
    assert code == 2
    assert err.startswith("错误：角色「nurse」：须为以下之一：管理员、研究者、研究协调员")
    monkeypatch.setenv("DOSEWISE_LANG", "zh")
    code, _, err = run([*args, "--role", "dsmb", "--site", "S01"], capsys)
    assert code == 2 and err == "错误：中心「S01」：DSMB 成员可处理所有中心的数据：请留空\n"
    code, _, err = run([*args, "--role", "coordinator", "--site", "S09"], capsys)
    assert code == 2 and err == "错误：中心「S09」：没有该中心（已有：S01, S02, S03, S04）\n"
    code, _, err = run(["--lang", "en", *args, "--role", "coordinator", "--site", "S09"], capsys)
    assert err == "error: site_id='S09': no such site (known: S01, S02, S03, S04)\n"
    code, _, err = run(["worklist", "--user", "ghost", "--database-url", migrated_url], capsys)
    assert code == 2 and err == "错误：用户「ghost」：没有该用户\n"
