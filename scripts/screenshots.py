"""Screenshots of the main web pages for docs/screenshots/ (and the README).

Loads the demonstration trial (:func:`dosewise.trial.demo.load_demo_trial`: 54 participants,
three arms, four sites, about a year of simulated time) into a temporary SQLite database, serves
the app on a free loopback port with the clock stopped at the end of the demo, and photographs
the pages in Debian's Chromium through Playwright (no browser download: see
``shared/notes/stack.md`` recipe 5).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
        [--only worklist --only arm ...]   (--only casebook: the casebook's first page only)

Takes about a minute (most of it the demo trial). ``--only arm-charts`` takes just that picture.
A path with a ``#fragment`` photographs only that element of the page.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn

from dosewise.server import create_app
from dosewise.settings import Settings, cheap_hashing
from dosewise.store import migrate
from dosewise.store.session import open_database
from dosewise.trial import Actor, UnitOfWork, bootstrap
from dosewise.trial.demo import DemoClock, load_demo_trial

PASSWORD = "screenshots password 1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}

#: Pictures of the trial part-way (phase 1, cohort 3 about to start in each arm).
MID_SHOTS: tuple[tuple[str, str, str, str, dict[str, int], bool], ...] = (
    ("overview-mid", "stat.demo", "en", "/trial", LAPTOP, True),
    ("arm-mid", "stat.demo", "en", "/trial/arms/autologous", LAPTOP, True),
    ("worklist", "inv.s01", "en", "/worklist", LAPTOP, False),
)
#: (file name, user, language, path, viewport, full page) at the end of the demo trial.
SHOTS: tuple[tuple[str, str, str, str, dict[str, int], bool], ...] = (
    ("login", "", "en", "/login", LAPTOP, False),
    ("overview", "stat.demo", "en", "/trial", LAPTOP, True),
    ("overview-zh", "stat.demo", "zh_CN", "/trial", LAPTOP, True),
    ("arm", "stat.demo", "en", "/trial/arms/autologous", LAPTOP, True),
    ("arm-zh", "stat.demo", "zh_CN", "/trial/arms/new_donor", LAPTOP, True),
    ("arm-charts", "stat.demo", "en", "/trial/arms/autologous#stat-views", LAPTOP, False),
    ("participant", "inv.s01", "en", "/participants/S01-0001", LAPTOP, True),
    ("participant-zh", "inv.s01", "zh_CN", "/participants/S01-0001", LAPTOP, True),
    ("participants-tablet", "crc.s01", "zh_CN", "/participants", TABLET, False),
    ("dsmb", "dsmb.demo", "en", "/dsmb", LAPTOP, True),
    ("dsmb-zh", "dsmb.demo", "zh_CN", "/dsmb", LAPTOP, True),
    ("protocol", "stat.demo", "en", "/protocol", LAPTOP, False),
    ("calculators", "crc.s02", "en", "/tools", TABLET, True),
    ("audit", "monitor.demo", "en", "/audit", LAPTOP, False),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StopDemo(Exception):
    """Raised from the demo's log to stop the trial part-way (for mid-trial pictures)."""


def demo_database(root: Path, stop_at: str | None = None) -> tuple[Settings, datetime]:
    """A migrated database holding the demo trial; the settings and the demo's last moment.

    ``stop_at``: stop the demo at the first log line containing this text (each act is its own
    committed transaction, so the database holds the trial as it stood then).
    """
    name = "mid.db" if stop_at else "demo.db"
    settings = cheap_hashing(Settings(database_url=f"sqlite:///{root / name}"))
    settings = settings.replace(sqlite_synchronous="NORMAL")
    db = open_database(settings)

    def log(line: str) -> None:
        print(line)
        if stop_at is not None and stop_at in line:
            raise StopDemo(line)

    try:
        migrate.upgrade(db.engine)
        with UnitOfWork(db, Actor.system("screenshots")) as uow:
            bootstrap.ensure_reference_data(uow, bootstrap.protocol_for(settings))
        clock = DemoClock()
        with contextlib.suppress(StopDemo):
            load_demo_trial(db, settings, clock, password=PASSWORD, log=log)
        return settings, clock()
    finally:
        db.dispose()


def serve(settings: Settings, moment: datetime, port: int) -> uvicorn.Server:
    """The app on 127.0.0.1:port in a thread, its clock stopped at ``moment``."""
    app = create_app(settings, clock=lambda: moment)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=0.5).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def shrink(path: Path) -> None:
    """Re-save a screenshot with a 256-colour palette (UI pictures lose nothing visible)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def photograph(
    base: str,
    out: Path,
    chromium: str,
    shots: tuple[tuple[str, str, str, str, dict[str, int], bool], ...],
) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        for name, user, lang, path, viewport, full in shots:
            context = browser.new_context(viewport=viewport, base_url=base)  # type: ignore[arg-type]
            page = context.new_page()
            page.goto(f"/lang/{lang}?next=/login")
            if user:
                page.fill("#username", user)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
            page.goto(path)
            page.wait_for_load_state("networkidle")
            # Chinese text waits for the CJK web font (a machine without one downloads it).
            page.evaluate("document.fonts.ready.then(() => document.fonts.status)")
            target = out / f"{name}.png"
            if "#" in path:  # one element of the page (its tables' details opened)
                element = page.locator("#" + path.split("#", 1)[1])
                element.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
                element.screenshot(path=str(target))
            else:
                page.screenshot(path=str(target), full_page=full)
            shrink(target)
            print("wrote", target)
            context.close()
        browser.close()


#: The participant whose casebook's first page is pictured (treated, with AEs and a DLT verdict).
CASEBOOK_STUDY_ID = "S01-0002"


def casebook_page(settings: Settings, moment: datetime, out: Path) -> None:
    """The first page of a demo participant's casebook (PDF → PNG with poppler's pdftoppm)."""
    import subprocess

    from dosewise.report.casebook_export import export_casebook

    db = open_database(settings)
    try:
        file = export_casebook(
            db, Actor.system("screenshots"), CASEBOOK_STUDY_ID, via="cli", clock=lambda: moment
        )
    finally:
        db.dispose()
    with tempfile.TemporaryDirectory(prefix="dosewise-casebook.") as tmp:
        pdf = Path(tmp) / file.filename
        pdf.write_bytes(file.content)
        stem = Path(tmp) / "page"
        subprocess.run(
            ["pdftoppm", "-r", "110", "-png", "-singlefile", "-f", "1", "-l", "1", pdf, stem],
            check=True,
        )
        out.mkdir(parents=True, exist_ok=True)
        target = out / "casebook.png"
        target.write_bytes(stem.with_suffix(".png").read_bytes())
    shrink(target)
    print("wrote", target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots", type=Path)
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    parser.add_argument(
        "--only", action="append", default=[], help="Take only this picture (repeatable)."
    )
    args = parser.parse_args()
    known = {s[0] for s in (*MID_SHOTS, *SHOTS)} | {"casebook"}
    unknown = sorted(set(args.only) - known)
    if unknown:
        parser.error(
            f"--only: no such picture {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    want_casebook = not args.only or "casebook" in args.only
    with tempfile.TemporaryDirectory(prefix="dosewise-shots.") as root:
        for stop_at, every in (("phase 1 cohort 3", MID_SHOTS), (None, SHOTS)):
            shots = tuple(s for s in every if not args.only or s[0] in args.only)
            casebook = stop_at is None and want_casebook
            if not shots and not casebook:
                continue
            settings, moment = demo_database(Path(root), stop_at)
            if shots:
                port = free_port()
                server = serve(settings, moment, port)
                try:
                    photograph(f"http://127.0.0.1:{port}", args.out, args.chromium, shots)
                finally:
                    server.should_exit = True
                    time.sleep(0.5)
            if casebook:
                casebook_page(settings, moment, args.out)


if __name__ == "__main__":
    main()
