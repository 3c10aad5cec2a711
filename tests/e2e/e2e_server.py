"""``dosewise serve`` on a free loopback port for the browser tests (no Playwright needed, so
conftest can import it before it knows whether the browser tests run)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(database_url: str) -> Iterator[str]:
    """``dosewise serve`` on 127.0.0.1 and a free port, on ``database_url``; its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "DOSEWISE_DATABASE_URL": database_url,
        "DOSEWISE_ARGON2_TIME_COST": "1",
        "DOSEWISE_ARGON2_MEMORY_KIB": "8",
        "DOSEWISE_ARGON2_PARALLELISM": "1",
        "DOSEWISE_SQLITE_SYNCHRONOUS": "NORMAL",
    }
    command = [sys.executable, "-c", "from dosewise.cli.app import main; main()"]
    proc = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"dosewise serve exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("dosewise serve did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
