"""Load test on loopback: gunicorn with ``deploy/gunicorn.conf.py`` (2 workers) serving the
benchmark database, and N client threads that each sign in as a bench account (keeping
their cookies and CSRF token, like a browser) and then run weighted actions for a while.

Reported: requests per second, median and p95 latency (overall and per action), errors
(any non-2xx/3xx answer, refused connection or time-out: must be 0).

Actions are ``Action(name, weight, fn)``; ``fn(client, env, rng)`` makes its requests with
``client.get``/``client.post`` (which time and record them). Reads are registered below.
Reads are the home page and department pages; writes are ``update_milestone`` (the
milestone page's update form posted with its csrf token and version, as a browser does),
and ``run_load`` then reports ``load_lost_updates`` from ``lost_updates`` (every
acknowledged update has its history row, and each history row starts where the one before
it ended).
"""
import http.client
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from bench.harness import Figure, percentile

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>', re.I)
_NAME = re.compile(r'name="([^"]+)"')
_VALUE = re.compile(r'value="([^"]*)"')


class LoadError(Exception):
    """A request answered with an unexpected status, or not at all."""


def hidden_fields(html):
    """The hidden inputs of a page (csrf_token, version …) as a dict."""
    fields = {}
    for tag in _HIDDEN.findall(html):
        name, value = _NAME.search(tag), _VALUE.search(tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


class Client:
    """One browser-like client: a keep-alive connection, a cookie jar, and a record of
    every request's action, latency and outcome."""

    def __init__(self, host, port, timeout=120):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None
        self.cookies = {}
        self.records = []  # (action, seconds, ok)

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _send(self, method, path, body, headers):
        if self.conn is None:
            self._connect()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            return self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed a kept-alive connection between requests: reconnect once.
            self.conn.close()
            self._connect()
            self.conn.request(method, path, body=body, headers=headers)
            return self.conn.getresponse()

    def request(self, method, path, form=None, action=None, expect=(200,)):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            response = self._send(method, path, body, headers)
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.records.append((action or path, time.perf_counter() - started, False))
            self.conn.close()
            self.conn = None
            raise LoadError(f"{method} {path}: {exc}") from exc
        elapsed = time.perf_counter() - started
        for header in response.msg.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        ok = response.status in expect
        if action is not None:
            self.records.append((action, elapsed, ok))
        if not ok:
            raise LoadError(f"{method} {path}: {response.status}")
        self.last_status = response.status
        return text

    def get(self, path, action=None, expect=(200,)):
        return self.request("GET", path, action=action, expect=expect)

    def post(self, path, form, action=None, expect=(302,)):
        self.request("POST", path, form=form, action=action, expect=expect)
        return self.last_status

    def sign_in(self, email, password):
        page = self.get("/sign-in")
        form = hidden_fields(page)
        form.update(email=email, password=password)
        self.post("/sign-in", form)

    def close(self):
        if self.conn is not None:
            self.conn.close()


class Ledger:
    """Updates the server acknowledged, per milestone (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.acknowledged = defaultdict(int)

    def acknowledge(self, milestone_id):
        with self._lock:
            self.acknowledged[milestone_id] += 1

    def __len__(self):
        return sum(self.acknowledged.values())


@dataclass
class Env:
    """What the actions draw from: the benchmark data's keys, and the ledger of writes."""

    department_codes: list
    milestone_ids: list
    ledger: Ledger = field(default_factory=Ledger)
    conflicts: list = field(default_factory=list)


@dataclass
class Action:
    name: str
    weight: int
    fn: object  # fn(client, env, rng)


def read_home(client, env, rng):
    client.get("/", "home")


def read_department(client, env, rng):
    client.get(f"/departments/{rng.choice(env.department_codes)}", "department")


_INPUT = re.compile(r'<input[^>]*>', re.I)
UPDATE_POOL = 40


def input_values(html):
    """Every named ``<input>`` of a page with its value (hidden ones included): what a
    browser sends back for the fields the user leaves alone."""
    fields = {}
    for tag in _INPUT.findall(html):
        name, value = _NAME.search(tag), _VALUE.search(tag)
        if name and name.group(1) not in fields:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def update_milestone(client, env, rng):
    """What an officer's browser does: open the milestone's page, then post its update form
    with the page's csrf token and version, the due date left as shown, a new percentage.
    A 409 (another client saved first) is the conflict page, an answer and not an error;
    a 303 is a saved update, entered in the ledger for the lost-update check. The clients
    share a few milestones (``UPDATE_POOL``), so they do collide and a lost update would show."""
    milestone_id = rng.choice(env.milestone_ids[:UPDATE_POOL])
    page = client.get(f"/milestones/{milestone_id}", "update_milestone_form")
    shown = input_values(page)
    form = {"csrf_token": shown.get("csrf_token", ""), "version": shown.get("version", ""),
            "due_date": shown.get("due_date", ""), "completed_on": "", "reason": "",
            "status": "in_progress", "percent_complete": str(rng.randint(1, 99)),
            "note": "load test"}
    status = client.post(f"/milestones/{milestone_id}/update", form, "update_milestone",
                         expect=(302, 303, 409))
    if status in (302, 303):
        env.ledger.acknowledge(milestone_id)
    else:
        env.conflicts.append(milestone_id)


ACTIONS = [
    Action("home", 1, read_home),
    Action("department", 3, read_department),
    Action("update_milestone", 2, update_milestone),
]


def time_gets(database_url, path, runs, warmup=1, role="secretary", workers=2):
    """``path`` served by a real gunicorn (``deploy/gunicorn.conf.py``), fetched ``runs``
    times one after another by one signed-in client, after ``warmup`` fetches. Returns the
    latencies in seconds."""
    from bench.generate import PASSWORD, staff_email

    with Server(database_url, workers=workers) as server:
        client = Client("127.0.0.1", server.port)
        try:
            client.sign_in(staff_email(role), PASSWORD)
            for _ in range(warmup):
                client.get(path)
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get(path)
                samples.append(time.perf_counter() - started)
        finally:
            client.close()
    return samples


def lost_updates(engine, ledger, since):
    """Acknowledged updates missing from the history, plus history rows that do not start
    where the previous one of their milestone ended (an overwrite nobody was told about)."""
    from models import MilestoneUpdate

    ids = list(ledger.acknowledged)
    if not ids:
        return 0
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(MilestoneUpdate.milestone_id, MilestoneUpdate.percent_from,
                      MilestoneUpdate.percent_to, MilestoneUpdate.status_from,
                      MilestoneUpdate.status_to)
            .where(MilestoneUpdate.milestone_id.in_(ids), MilestoneUpdate.at >= since,
                   MilestoneUpdate.percent_to.is_not(None))
            .order_by(MilestoneUpdate.milestone_id, MilestoneUpdate.id)
        ).all()
    recorded = defaultdict(int)
    breaks = 0
    previous = {}
    for milestone_id, p_from, p_to, s_from, s_to in rows:
        recorded[milestone_id] += 1
        if milestone_id in previous and previous[milestone_id] != (p_from, s_from):
            breaks += 1
        previous[milestone_id] = (p_to, s_to)
    missing = sum(max(0, n - recorded[m]) for m, n in ledger.acknowledged.items())
    return missing + breaks


# -- the server ------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlalchemy_url(url):
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith(
        "postgresql://") else url


class Server:
    """gunicorn with deploy/gunicorn.conf.py on a free loopback port, in production mode."""

    def __init__(self, database_url, workers=2, log_path=None):
        self.port = free_port()
        self.database_url = sqlalchemy_url(database_url)
        self.workers = workers
        self.log_path = log_path or ROOT / "instance" / "bench" / "gunicorn.log"
        self.process = None

    def __enter__(self):
        env = dict(os.environ)
        env.update(
            TRACKER_ENV="production", SECRET_KEY=secrets.token_hex(16),
            DATABASE_URL=self.database_url, PORT=str(self.port),
            BIND=f"127.0.0.1:{self.port}", WEB_CONCURRENCY=str(self.workers),
            GUNICORN_ACCESS_LOG="", SCHEDULER_ENABLED="0",
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/sign-in")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_path}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


# -- the run ------------------------------------------------------------------------------------


def _accounts(clients):
    """Which bench account each client signs in as: NIC and the Secretary, alternately
    (both may read everything; NIC may also update any milestone)."""
    from bench.generate import PASSWORD, staff_email

    return [(staff_email("nic" if i % 2 == 0 else "secretary"), PASSWORD) for i in range(clients)]


def _environment(engine):
    from models import Department, Milestone

    with engine.connect() as conn:
        codes = list(conn.execute(sa.select(Department.code).order_by(Department.id)).scalars())
        ids = list(conn.execute(
            sa.select(Milestone.id).where(Milestone.status.notin_(("completed", "dropped")))
            .order_by(Milestone.id).limit(5000)
        ).scalars())
    return Env(department_codes=codes, milestone_ids=ids)


def run_load(database_url, seconds=30.0, clients=8, workers=2, actions=None, seed=2026):
    """Serve the database with gunicorn and drive it; returns the figures."""
    from bench.generate import engine_for
    from models.base import utcnow

    actions = actions or ACTIONS
    engine = engine_for(database_url)
    env = _environment(engine)
    since = utcnow()
    errors = []
    all_clients = []
    with Server(database_url, workers=workers) as server:
        deadline = [0.0]
        started = [0.0]

        def go():  # run once, when every client has signed in
            started[0] = time.perf_counter()
            deadline[0] = started[0] + seconds

        start_barrier = threading.Barrier(clients + 1, action=go)
        sign_in_lock = threading.Lock()

        def worker(index, email, password):
            rng = random.Random(seed + index)
            client = Client("127.0.0.1", server.port)
            all_clients.append(client)
            try:
                # One at a time: signing in hashes a password (deliberately slow) inside a
                # write transaction; eight at once only measure the queue for it.
                with sign_in_lock:
                    client.sign_in(email, password)
            except LoadError as exc:
                errors.append(f"sign-in: {exc}")
            start_barrier.wait()
            names = [a for a in actions]
            weights = [a.weight for a in actions]
            first = list(names)  # every action once first, so a short run covers them all
            while time.perf_counter() < deadline[0] or first:
                action = first.pop(0) if first else rng.choices(names, weights)[0]
                try:
                    action.fn(client, env, rng)
                except LoadError as exc:
                    errors.append(f"{action.name}: {exc}")
            client.close()

        threads = [threading.Thread(target=worker, args=(i, email, password), daemon=True)
                   for i, (email, password) in enumerate(_accounts(clients))]
        for t in threads:
            t.start()
        start_barrier.wait()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started[0]
    records = [r for c in all_clients for r in c.records]
    latencies = [s for _, s, ok in records if ok]
    figures = [
        Figure("load_requests", len(records), "count"),
        Figure("load_requests_per_s", len(records) / elapsed, "req/s"),
        Figure("load_median_ms", percentile(latencies, 50) * 1000, "ms"),
        Figure("load_p95_ms", percentile(latencies, 95) * 1000, "ms"),
        Figure("load_errors", len(errors), "count"),
    ]
    for action in actions:
        mine = [s for name, s, ok in records if name == action.name and ok]
        if mine:
            figures.append(Figure(f"load_{action.name}_p95_ms", percentile(mine, 95) * 1000, "ms"))
    if len(env.ledger):
        figures.append(Figure("load_updates", len(env.ledger), "count"))
        figures.append(Figure("load_conflicts", len(env.conflicts), "count"))
        figures.append(Figure("load_lost_updates", lost_updates(engine, env.ledger, since), "count"))
    engine.dispose()
    if errors:
        print(f"# load test errors (first 5 of {len(errors)}): {errors[:5]}", file=sys.stderr)
    return figures
