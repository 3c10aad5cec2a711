"""API latency of the trial service: ``assign dose`` and the arm state under 20 concurrent clients.

Starts ``dosewise serve`` on 127.0.0.1 (a free port) with a temporary SQLite database and the
embedded NCT07070323 protocol, prepares each arm through the API (a first cohort of three
assigned, confirmed, released and infused, and seven more participants enrolled and waiting),
then runs 20 clients (a process each, one keep-alive ``http.client`` connection: the
standard library's client costs a few dozen microseconds a request, httpx several times that,
and separate processes do not share one interpreter lock) that alternate

- ``POST /participants/{id}/dose-assignment`` for their waiting participant: the session
  check, the design's verdict on the arm state (the cohort is full and its outcomes pending,
  so: 409 ``must_wait``, kept until a record changes), the durably audited refusal; and
- ``GET /arms/{arm}/state``.

Bounded in count (2,000 timed requests) and time (60 s); the server is stopped by its PID. The
nine successful assignments of the first cohorts are timed too (sequentially). The clients run
in their own processes, the server in its own (``--workers N`` server processes). Reports p50 /
p99 and throughput per request kind beside the goals of issue 19, with the load average before
and after, and writes the sections "Trial service API latency (issue 6)" (SQLite, one worker)
and "Trial service API latency, PostgreSQL (issue 19)" (a throwaway server on 127.0.0.1,
``--pg-workers`` processes) of bench/RESULTS.md.

    python bench/api_latency.py [--backend sqlite|postgresql|both] [--requests 2000]
        [--seconds 60] [--clients 20] [--rounds 3] [--workers 1] [--pg-workers 2]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dosewise.protocol import default_protocol
from dosewise.trial.demo import plan
from results import write_section

PASSWORD = "benchmark password 2026"
ARMS = ("autologous", "prior_sct_donor", "new_donor")
SITES = ("S01", "S02", "S03", "S04")
WAITING_PER_ARM = 7


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *argv: str) -> None:
    code = "import sys; from dosewise.cli.app import main; main(sys.argv[1:])"
    subprocess.run([sys.executable, "-c", code, *argv], env=env, check=True, capture_output=True)


def setup_users(env: dict[str, str]) -> None:
    """Four coordinators and a statistician with the benchmark's known password.

    Created through the access service with ``one_time=False`` (as the demo data does): an
    account added by ``dosewise user add`` must choose its own password before anything else.
    """
    script = (
        "from dosewise.settings import Settings\n"
        "from dosewise.store.session import open_database\n"
        "from dosewise.trial import access\n"
        "from dosewise.trial.audit import Actor\n"
        "from dosewise.trial.uow import UnitOfWork\n"
        "settings = Settings.from_env()\n"
        "db = open_database(settings)\n"
        "passwords = access.Passwords(settings)\n"
        f"users = [('crc.' + s.lower(), 'coordinator', s) for s in {SITES!r}]\n"
        "users.append(('stat.bench', 'statistician', None))\n"
        "for name, role, site in users:\n"
        "    with UnitOfWork(db, Actor.system('bench')) as uow:\n"
        "        access.create_user(uow, passwords, settings, username=name, full_name=name,\n"
        f"            role=role, site_id=site, password={PASSWORD!r}, one_time=False)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)


class Client:
    def __init__(self, base: str, username: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        r = self.http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def call(
        self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)
    ) -> Any:
        r = self.http.request(method, "/api/v1" + path, json=body)
        if r.status_code not in ok:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json()


def recruit(c: Client, site: str, arm: str, today: str) -> str:
    day = datetime.fromisoformat(today).date()
    sid = c.call("POST", "/participants", {"site_id": site})["study_id"]
    c.call(
        "POST",
        f"/participants/{sid}/consents",
        {"consent_version": "v1", "record": plan.consent_record(day, 40)},
    )
    c.call(
        "POST",
        f"/participants/{sid}/screenings",
        {"arm_id": arm, "record": plan.screening_record(day, 40, "male")},
    )
    c.call("POST", f"/participants/{sid}/enrollment", {"arm_id": arm})
    return str(sid)


def prepare(base: str) -> tuple[list[tuple[str, str, str]], list[float]]:
    """First cohorts assigned and infused (timed), waiting participants enrolled."""
    coords = {site: Client(base, f"crc.{site.lower()}") for site in SITES}
    stat = Client(base, "stat.bench")
    # The service's today (the trial's zone, Asia/Shanghai), not the UTC date.
    today = str(stat.call("GET", f"/arms/{ARMS[0]}/state")["as_of"])
    waiting: list[tuple[str, str, str]] = []
    assign_ms: list[float] = []
    k = 0
    for arm in ARMS:
        for _ in range(3):
            site = SITES[k % 4]
            k += 1
            c = coords[site]
            sid = recruit(c, site, arm, today)
            start = time.perf_counter()
            a = c.call("POST", f"/participants/{sid}/dose-assignment", {})
            assign_ms.append(1000 * (time.perf_counter() - start))
            stat.call(
                "POST", f"/participants/{sid}/dose-assignment/confirm", {"password": PASSWORD}
            )
            prod = c.call(
                "POST",
                f"/participants/{sid}/products",
                {
                    "lot": f"B-{sid}",
                    "certificate": plan.certificate(plan_cells(a["dose_index"]), 60.0, False),
                    "weight_kg": 60.0,
                    "released_on": today,
                },
            )
            c.call(
                "POST",
                f"/participants/{sid}/lymphodepletion",
                {"regimen": "Flu/Cy", "start_on": today, "end_on": today},
            )
            c.call(
                "POST",
                f"/participants/{sid}/infusion",
                {"infused_on": today, "infused_volume_ml": prod["volume_ml"]},
            )
        for _ in range(WAITING_PER_ARM):
            site = SITES[k % 4]
            k += 1
            waiting.append((recruit(coords[site], site, arm, today), site, arm))
    return waiting, assign_ms


def plan_cells(dose: int) -> float:
    """The cells per kg of the protocol's design dose ``dose`` (DL1 is design dose 1)."""
    return default_protocol().dose_levels.by_index(dose).cells_per_kg


class RawClient:
    """One keep-alive HTTP/1.1 connection through the standard library's ``http.client``: a
    request costs the client a few dozen microseconds (httpx costs several times that), so the
    figures are the server's, not the client's."""

    def __init__(self, port: int, username: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers: dict[str, str] = {}
        login = {"username": username, "password": PASSWORD}
        status, data = self.request("POST", "/api/v1/auth/login", login)
        if status != 200:
            raise RuntimeError(f"login {username}: {status} {data[:300]!r}")
        self.headers = {"Authorization": f"Bearer {json.loads(data)['access_token']}"}

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def assign(self, sid: str) -> str:
        status, data = self.request("POST", f"/api/v1/participants/{sid}/dose-assignment", {})
        code = json.loads(data).get("error", {}).get("code", "") if status >= 400 else ""
        return f"assign {status} {code}"

    def state(self, arm: str) -> str:
        status, _ = self.request("GET", f"/api/v1/arms/{arm}/state")
        return f"state {status}"


def client_process(
    port: int,
    who: tuple[str, str, str],
    requests: int,
    seconds: float,
    barrier: Any,
    start_at: Any,
    out: Any,
    kinds: tuple[str, ...],
) -> None:
    """One client in its own process: log in, wait for the others, then take turns at
    ``kinds`` (assign, state) until its share of the requests is done or the time is up; send
    the timings back."""
    sid, site, arm = who
    c = RawClient(port, f"crc.{site.lower()}")
    for kind in kinds:  # untimed: this client's session and participant enter the caches
        c.assign(sid) if kind == "assign" else c.state(arm)
    if barrier.wait() == 0:  # once every client has logged in (Argon2 takes a while)
        start_at.value = time.perf_counter()  # CLOCK_MONOTONIC: one clock for all processes
    barrier.wait()
    # The server closes a connection idle for 5 s (uvicorn's keep-alive timeout), as the
    # logins may have taken: start on a fresh one (http.client opens it on the next request).
    c.conn.close()
    deadline = start_at.value + seconds
    rows: list[tuple[str, float, str]] = []
    for n in range(requests):
        if time.perf_counter() >= deadline:
            break
        kind = kinds[n % len(kinds)]
        start = time.perf_counter()
        key = c.assign(sid) if kind == "assign" else c.state(arm)
        rows.append((kind, 1000 * (time.perf_counter() - start), key))
    out.send((rows, time.perf_counter()))
    out.close()


def load(
    server_pid: int,
    port: int,
    waiting: list[tuple[str, str, str]],
    clients: int,
    max_requests: int,
    seconds: float,
    kinds: tuple[str, ...] = ("assign", "state"),
) -> tuple[dict[str, list[float]], dict[str, int], float, float]:
    """``clients`` processes, one client each, taking turns at ``kinds`` (by default
    alternating assign and state) until the count (shared out evenly) or the time bound; the
    timings, the responses, the wall time and the server's CPU seconds from the start (every
    client logged in) to the end."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clients + 1)  # the clients and this process
    start_at = ctx.Value("d", 0.0)
    shares = [max_requests // clients + (i < max_requests % clients) for i in range(clients)]
    pipes, procs = [], []
    for i in range(clients):
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=client_process,
            args=(
                *(port, waiting[i % len(waiting)], shares[i], seconds),
                *(barrier, start_at, sender, kinds),
            ),
        )
        proc.start()
        sender.close()
        pipes.append(receiver)
        procs.append(proc)
    if barrier.wait() == 0:
        start_at.value = time.perf_counter()
    cpu = server_cpu_s(server_pid)  # after the logins (Argon2), before the timed requests
    barrier.wait()
    timings: dict[str, list[float]] = {"assign": [], "state": []}
    statuses: dict[str, int] = {}
    ended = 0.0
    for receiver in pipes:
        rows, finished = receiver.recv()
        ended = max(ended, finished)
        for kind, elapsed, key in rows:
            timings[kind].append(elapsed)
            statuses[key] = statuses.get(key, 0) + 1
    cpu = server_cpu_s(server_pid) - cpu
    for proc in procs:
        proc.join(timeout=30)
        if proc.exitcode != 0:
            raise RuntimeError(f"a client process ended with {proc.exitcode}")
    return timings, statuses, ended - start_at.value, cpu


def sequential(port: int, who: tuple[str, str, str], n: int = 30) -> dict[str, list[float]]:
    """One client alone, one request at a time: what a request costs without queueing."""
    sid, site, arm = who
    c = RawClient(port, f"crc.{site.lower()}")
    out: dict[str, list[float]] = {"assign": [], "state": []}
    for i in range(2 * n + 4):
        kind = "assign" if i % 2 == 0 else "state"
        start = time.perf_counter()
        if kind == "assign":
            c.assign(sid)
        else:
            c.state(arm)
        if i >= 4:  # the first two of each warm up
            out[kind].append(1000 * (time.perf_counter() - start))
    return out


def server_stack(env: dict[str, str]) -> str:
    """uvicorn's HTTP parser and event loop as ``dosewise serve`` chooses them here."""
    code = "from dosewise.cli.trial import server_options; print(*server_options())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:  # an older dosewise: uvicorn's own choice
        return "uvicorn's default choice"
    http, loop = out.stdout.split()
    return f"{http} and {loop}"


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its worker processes,
    from /proc (0 where there is none): the server's own work, whatever else the machine runs."""
    total, todo = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def load_average() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server of its own (initdb in a temporary folder, 127.0.0.1 only, default
    durability settings: fsync and synchronous commit on, as SQLite's ``synchronous=FULL``);
    the URL of an empty database on it. Stopped and removed afterwards."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not dirs or not os.path.exists(f"{dirs[-1]}/initdb"):
        raise RuntimeError("PostgreSQL server binaries not installed")
    pgbin, port = dirs[-1], free_port()
    root = tempfile.mkdtemp(prefix="dosewise-bench-pg.", dir="/tmp")
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    initdb = ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"]
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200"
    try:
        subprocess.run(
            [*as_pg, f"{pgbin}/initdb", "-D", data, *initdb],
            check=True,
            capture_output=True,
            cwd=root,
        )
        subprocess.run(
            [
                *as_pg,
                f"{pgbin}/pg_ctl",
                "-D",
                data,
                "-l",
                f"{root}/server.log",
                "-w",
                "-t",
                "60",
                "-o",
                opts,
                "start",
            ],
            check=True,
            capture_output=True,
            cwd=root,
        )
        subprocess.run(
            [
                *as_pg,
                f"{pgbin}/createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "bench",
            ],
            check=True,
            capture_output=True,
            cwd=root,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(
            [*as_pg, f"{pgbin}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
            capture_output=True,
            cwd=root,
        )
        shutil.rmtree(root, ignore_errors=True)


def run(url: str, workers: int, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Serve ``url`` with ``workers`` processes, prepare the arms, load; figures and loads."""
    port = free_port()
    env = {**os.environ, "DOSEWISE_DATABASE_URL": url}
    cli(env, "db", "upgrade")
    setup_users(env)
    code = "import sys; from dosewise.cli.app import main; main(sys.argv[1:])"
    server = subprocess.Popen(
        [
            *(sys.executable, "-c", code, "serve", "--host", "127.0.0.1"),
            *("--port", str(port), "--workers", str(workers)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("dosewise serve did not start")
        waiting, assign_ok = prepare(base)
        alone = sequential(port, waiting[0])
        before = load_average()
        rounds = []
        for _ in range(args.rounds):
            timings, statuses, wall, cpu_mixed = load(
                server.pid, port, waiting, args.clients, args.requests, args.seconds
            )
            reads, read_statuses, read_wall, cpu_reads = load(
                server.pid, port, waiting, args.clients, args.requests, args.seconds, ("state",)
            )
            rounds.append(
                {
                    "timings": timings,
                    "statuses": statuses,
                    "wall": wall,
                    "reads": reads["state"],
                    "read_wall": read_wall,
                    "read_statuses": read_statuses,
                    "cpu_mixed": cpu_mixed,
                    "cpu_reads": cpu_reads,
                }
            )
        after = load_average()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    figures = {
        "server": server_stack(env),
        "rounds": rounds,
        "statuses": summed(r["statuses"] for r in rounds),
        "read_statuses": summed(r["read_statuses"] for r in rounds),
        "assign_ok": assign_ok,
        "alone": alone,
    }
    return figures, f"{before} before the run, {after} when it ended"


def summed(counts: Iterator[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total


def round_figures(values: list[float], wall: float) -> tuple[float, float, float, float]:
    """One round's p50, p99, max (ms) and requests per second."""
    return statistics.median(values), pct(values, 0.99), max(values), len(values) / wall


def median_row(label: str, per_round: list[tuple[float, float, float, float]], n: int) -> str:
    """A table row: the median over the rounds of each figure (the largest max)."""
    p50 = statistics.median(r[0] for r in per_round)
    p99 = statistics.median(r[1] for r in per_round)
    top = max(r[2] for r in per_round)
    rate = statistics.median(r[3] for r in per_round)
    return f"| {label} | {n} | {p50:.1f} | {p99:.1f} | {top:.1f} | {rate:.0f} |"


def report(
    backend: str, workers: int, figures: dict[str, Any], loads: str, args: argparse.Namespace
) -> str:
    rounds, statuses = figures["rounds"], figures["statuses"]
    assign_ok = figures["assign_ok"]
    total = sum(len(v) for r in rounds for v in r["timings"].values())
    wall = sum(r["wall"] for r in rounds)
    rows = [
        "| request | n | p50 ms | p99 ms | max ms | per s | goal (issue 19) |",
        "|---|---|---|---|---|---|---|",
    ]
    each: dict[str, list[tuple[float, float, float, float]]] = {}
    for kind, label, goal in (
        ("assign", "assign dose (`POST .../dose-assignment`)", "p99 ≤ 150 ms"),
        ("state", "arm state (`GET /arms/{arm}/state`)", "p99 ≤ 50 ms, ≥ 400/s"),
    ):
        each[kind] = [round_figures(r["timings"][kind], r["wall"]) for r in rounds]
        n = sum(len(r["timings"][kind]) for r in rounds)
        rows.append(f"{median_row(label, each[kind], n)} {goal} |")
    each["reads"] = [round_figures(r["reads"], r["read_wall"]) for r in rounds]
    n = sum(len(r["reads"]) for r in rounds)
    rows.append(
        f"{median_row(f'arm state, {args.clients} clients reading only', each['reads'], n)} "
        "p99 ≤ 50 ms, ≥ 400/s |"
    )
    for kind, label in (("assign", "assign dose, refused"), ("state", "arm state")):
        v = figures["alone"][kind]
        rows.append(
            f"| {label}, one client alone (sequential) | {len(v)} | "
            f"{statistics.median(v):.1f} | {pct(v, 0.99):.1f} | {max(v):.1f} | | |"
        )
    rows.append(
        f"| assign dose, successful (sequential, first cohorts) | {len(assign_ok)} | "
        f"{statistics.median(assign_ok):.1f} | — | {max(assign_ok):.1f} | | |"
    )
    name = "SQLite" if backend == "sqlite" else "PostgreSQL (its own server on 127.0.0.1, fsync on)"
    return "\n".join(
        [
            f"{args.clients} concurrent clients (a process each, one keep-alive `http.client` "
            "connection, so the client's own cost is small) on loopback against "
            f"`dosewise serve --workers {workers}` in its own process(es) "
            f"(uvicorn, {name}, the embedded protocol), {total} timed requests in {wall:.1f} s "
            f"({total / wall:.0f} requests/s), bounded at {args.requests} requests and "
            f"{args.seconds:g} s. Each arm holds a first cohort of three infused participants "
            f"with outcomes pending and {WAITING_PER_ARM} enrolled participants waiting, so the "
            "design answers every concurrent assignment with 409 `must_wait`: each request "
            "checks its session and answers in one read-only transaction "
            "(`dosewise.http.auth.acting`), "
            + (
                "on the event loop when its session and answer are in memory, else in one "
                "thread-pool call (`dosewise.http.loop_first`): "
                if backend == "sqlite"
                else "in one thread-pool call: "
            )
            + "one query reads the database's change counters "
            "(`data_version`, raised by its triggers on any change of a record or of access, "
            "see `dosewise.store.versions`), which say that the session remembered by its "
            "token's digest still holds and key the arm state, its e-signature checks, the "
            "assignment's verdict per user and participant and (for a read) the serialised "
            "answer per audience and language (`dosewise.trial.state.cache`); on PostgreSQL "
            "that transaction's statements run one by one in autocommit, read-only enforced by "
            "the server (`Database.statement_sessions`), which spares the BEGIN and ROLLBACK "
            "round trips. Each refusal is "
            "audited durably before it is answered; the refusal events of concurrent requests "
            "share one transaction and one disk flush (`dosewise.trial.group_commit`; a "
            "request on the event loop awaits that commit without holding a thread). Reads "
            "write nothing. Each client first makes one untimed request of each kind (its "
            "session and its participant's verdict enter the caches, as in the first seconds "
            "of a working day; after any write the first request computes afresh, as the row "
            "'successful' below does), then alternates the two kinds; then "
            f"the {args.clients} clients only read (the row 'reading only', the same bounds); "
            "a round is those two loads. "
            f"The server's HTTP parser and event loop: {figures['server']}.",
            "",
            *rows,
            "",
            "Responses: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
            + "; reading only: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(figures["read_statuses"].items()))
            + ".",
            f"Load average: {loads}.",
            "Each round (the table shows the median round's p50, p99 and rate, the largest max): "
            + "; ".join(
                f"round {i + 1}: assign p99 {a[1]:.0f} ms, state p99 {st[1]:.0f} ms and "
                f"{st[3]:.0f}/s in the mix, reading only {rd[3]:.0f}/s with p99 {rd[1]:.0f} ms"
                for i, (a, st, rd) in enumerate(
                    zip(each["assign"], each["state"], each["reads"], strict=True)
                )
            )
            + ".",
            f"Server CPU (user + system, every server process, from /proc): "
            f"{1000 * sum(r['cpu_mixed'] for r in rounds) / max(total, 1):.2f} ms per request "
            "in the alternating mix, "
            f"{1000 * sum(r['cpu_reads'] for r in rounds) / max(n, 1):.2f} "
            "ms per arm-state read when only reading: the server's own work, which the load "
            "average does not stretch.",
            "",
            f"{workers} uvicorn process(es) serve every request. The clients run closed loops: "
            "the latency is mostly queueing (p50 ≈ clients / throughput, Little's law), not the "
            'work of one request (the rows "one client alone" show that), and the '
            "client processes share the two cores with the server. The server process moves "
            "what it built at start-up out of the garbage collector's way (`gc.freeze`, "
            "`dosewise.server.create_app`), so no full collection pauses every request for "
            "100 ms.",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="mixed + reading-only loads per server; the table shows the median round",
    )
    parser.add_argument("--workers", type=int, default=1, help="serve --workers on SQLite")
    parser.add_argument("--pg-workers", type=int, default=2, help="serve --workers on PostgreSQL")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--no-write", action="store_true", help="Do not update RESULTS.md")
    args = parser.parse_args()
    unexpected: dict[str, int] = {}
    for backend in ("sqlite", "postgresql"):
        if args.backend not in (backend, "both"):
            continue
        with contextlib.ExitStack() as stack:
            if backend == "sqlite":
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="dosewise-bench-"))
                url, workers = f"sqlite:///{Path(tmp) / 'bench.db'}", args.workers
                title = "Trial service API latency (issue 6)"
            else:
                url, workers = stack.enter_context(throwaway_postgres()), args.pg_workers
                title = "Trial service API latency, PostgreSQL (issue 19)"
            figures, loads = run(url, workers, args)
        body = report(backend, workers, figures, loads, args)
        print(f"== {backend}\n{body}\n", flush=True)
        if not args.no_write:
            write_section(title, f"python bench/api_latency.py --backend {backend}", body)
        unexpected.update(
            {
                f"{backend}: {k}": v
                for k, v in figures["statuses"].items()
                if k not in ("assign 409 must_wait", "state 200")
            }
        )
        unexpected.update(
            {f"{backend}: {k}": v for k, v in figures["read_statuses"].items() if k != "state 200"}
        )
    if unexpected:
        print(f"unexpected responses: {unexpected}", file=sys.stderr)
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
