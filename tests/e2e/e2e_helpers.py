"""Signing in and out through the pages, and a ``dosewise serve`` on a database, for the browser
tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from pg import PASSWORD

if TYPE_CHECKING:  # the conftest imports this module even where Playwright is missing
    from playwright.sync_api import Page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str) -> Iterator[str]:
    """``dosewise serve`` on 127.0.0.1 and a free port over ``database_url``; its base URL."""
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


def sign_in(page: Page, username: str, password: str = PASSWORD, base: str = "") -> None:
    """Sign in through the form, as a person would (``base``: another server's URL)."""
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
