"""``dosewise serve --workers N``: several server processes on one port, one database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ENTRY = "import sys; from dosewise.cli.app import main; main(sys.argv[1:])"
CHEAP = {
    "DOSEWISE_ARGON2_TIME_COST": "1",
    "DOSEWISE_ARGON2_MEMORY_KIB": "8",
    "DOSEWISE_ARGON2_PARALLELISM": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_two_workers_serve_the_same_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trial.db'}"
    env = {**os.environ, **CHEAP}
    subprocess.run(
        [sys.executable, "-c", ENTRY, "db", "upgrade", "--database-url", url],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-c", ENTRY, "serve", "--port", str(port)),
            *("--workers", "2", "--database-url", url, "--access-log"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while not lines or "first administrator" not in "".join(lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        password = "".join(lines).split("password ")[1].split("\n")[0].strip().strip("'")
        base = f"http://127.0.0.1:{port}/api/v1"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert len(children(proc.pid)) >= 2  # the worker processes under uvicorn's supervisor
        # The first administrator's password is one-time: choose one's own, on one worker ...
        with httpx.Client(base_url=base, timeout=10) as client:
            r = client.post("/auth/login", json={"username": "admin", "password": password})
            assert r.status_code == 200, r.text
            chosen = "two workers share one database"
            r = client.post(
                "/auth/password",
                json={"current_password": password, "new_password": chosen},
                headers={"Authorization": f"Bearer {r.json()['access_token']}"},
            )
            assert r.status_code == 204, r.text
        password = chosen
        # ... then logins and reads on fresh connections land on either worker; all see the
        # same users and the changed password.
        for _ in range(6):
            with httpx.Client(base_url=base, timeout=10) as client:
                r = client.post("/auth/login", json={"username": "admin", "password": password})
                assert r.status_code == 200, r.text
                token = r.json()["access_token"]
                users = client.get("/users", headers={"Authorization": f"Bearer {token}"})
                assert users.status_code == 200, users.text
                assert [u["username"] for u in users.json()] == ["admin"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # --access-log: each worker logs its requests (off by default, see `dosewise serve --help`)
    assert proc.stdout is not None
    assert '"GET /api/v1/users HTTP/1.1" 200' in proc.stdout.read()
