r"""Load test: many concurrent simulated users against the app under gunicorn (gthread) on SQLite.

    .venv/bin/python -m tests.bench.load --users 50 --seconds 60 --workers 2 --threads 8

See tests/bench/README.md ("Load"). The runner prepares a SQLite dataset (a copy of an existing
benchmark database, or one seeded by ``tests.bench.data.ensure_dataset``), adds the load users
(staff of several roles, portal customers with passwords), starts
``gunicorn -k gthread -w N --threads T 'wsgi:create_app()'`` on a free port of 127.0.0.1, waits
for /healthz, and lets the users work for a bounded time: staff sign in through the real form and
then search, list, open cards and their tabs, look at My day, add interactions and follow-ups and
mark follow-ups done; customers sign in to the portal, read and edit their details and
preferences. Every request is timed. Gunicorn (that process, by its PID) is stopped at the end,
also on errors and Ctrl-C.

It reports per kind of request and overall: count, errors, p50/p95/p99 and throughput, on stdout
and as JSON (``tests/bench/out/load.json``). Target (QUALITY.md): 0 errors and p95 < 200 ms.
It reports; it never fails on timing.
"""
import argparse
import datetime
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

# Before anything imports config: never touch the repository's instance/ folder or its secret.
# The same secret as tests.bench.run: the dataset's encrypted fields are keyed by it.
os.environ.setdefault("CC_INSTANCE_DIR", str(Path(tempfile.gettempdir()) / "cards-bench-instance"))
os.environ.setdefault("SECRET_KEY", "bench-secret-key")
os.environ.setdefault("HUEY_IMMEDIATE", "1")

from tests.bench.data import ensure_dataset, sidecar_path

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = Path(__file__).resolve().parent / "out"
TARGET_P95_MS = 200.0
STAFF_PASSWORD = "load-staff-password-2024"
CUSTOMER_PASSWORD = "load-customer-password-2024"
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CARD_RE = re.compile(r'href="/staff/cards/([A-Za-z0-9_-]{12})"')
DONE_RE = re.compile(r'action="/staff/tasks/([A-Za-z0-9_-]{12})/done"')
RECORD_KINDS = ("purchase", "service", "interaction")
SEARCH_CLASSES = ("hanzi2", "pinyin", "phone4", "initials", "email")
# Staff actions and their weights (one is picked per step of a user's loop).
STAFF_MIX = {"search": 30, "list": 8, "card": 20, "card_tab": 14, "my_day": 8,
             "add_interaction": 7, "add_follow_up": 7, "task_done": 6}
PORTAL_MIX = {"portal_home": 25, "details": 25, "details_save": 15, "preferences": 20,
              "preferences_save": 10, "purchases": 5}
SIGN_IN_KINDS = ("staff_login_form", "staff_login", "portal_login_form", "portal_login")


# --- the dataset ----------------------------------------------------------------------------

def copy_dataset(source, target, say):
    """Copy a benchmark database (and its sidecar) with SQLite's backup API, reading the source
    through a read-only connection: the original is never written."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    src = sqlite3.connect(f"file:{Path(source).resolve()}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst, pages=20000)
    finally:
        dst.close()
        src.close()
    shutil.copyfile(sidecar_path(source), sidecar_path(target))
    say(f"  copied {source} to {target} in {time.perf_counter() - started:.1f} s")


def prepare_dataset(args, say):
    """The dataset for the run: ``--db``, copied from ``--source`` when it is missing (or when
    ``--fresh-copy``), else seeded/reused by ensure_dataset at ``--customers``."""
    db = Path(args.db)
    source = args.source if args.source and Path(args.source).exists() else None
    if source and Path(source).resolve() == db.resolve():
        raise SystemExit("--db must not be --source: the server writes to --db (use a copy)")
    if source and (args.fresh_copy or not db.exists() or not sidecar_path(db).exists()):
        copy_dataset(source, db, say)
    if sidecar_path(db).exists() and source:
        meta = json.loads(sidecar_path(db).read_text())
        customers, transactions = meta["customers"], meta["transactions"]
    else:
        customers, transactions = args.customers, args.transactions
    started = time.perf_counter()
    dataset = ensure_dataset(db, customers, transactions)
    if dataset["seeded"]:
        say(f"  seeded {customers:,} cards in {time.perf_counter() - started:.1f} s")
    return dataset


def ensure_load_users(url, staff_roles, portal_users, say):
    """The staff ({"email", "role"}) and portal customers ({"email"}) the simulated users sign
    in as: created once through services.accounts, reused on later runs."""
    import models
    from models import Customer, PortalAccount, StaffUser
    from services import accounts
    from services.actors import Actor

    actor = Actor.system("load")
    models.bind(url)
    models.db.connect(reuse_if_open=True)
    created = 0
    try:
        staff = []
        for i, role in enumerate(staff_roles):
            email = f"load-{role}-{i}@example.com"
            if not StaffUser.select().where(StaffUser.email == email).exists():
                accounts.create_staff(email, f"负载 {role} {i}", STAFF_PASSWORD, role, actor)
                created += 1
            staff.append({"email": email, "role": role})
        customers = []
        taken = set(PortalAccount.select(PortalAccount.customer_id).tuples())
        rng = random.Random(5)
        top = Customer.select(Customer.id).order_by(Customer.id.desc()).limit(1).scalar() or 0
        for i in range(portal_users):
            email = f"load-customer-{i}@example.com"
            if not PortalAccount.select().where(PortalAccount.email == email).exists():
                for _ in range(1000):
                    card = (Customer.select().where(Customer.id >= rng.randint(1, top),
                                                    Customer.erased_at.is_null())
                            .order_by(Customer.id).first())
                    if card is not None and (card.id,) not in taken:
                        break
                else:
                    raise RuntimeError("no card without a portal account left")
                taken.add((card.id,))
                accounts.create_portal_account(card, email, CUSTOMER_PASSWORD)
                created += 1
            customers.append({"email": email})
        models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        models.db.close()
        models.db.close_all()
    if created:
        say(f"  created {created} load users")
    return staff, customers


def pick_search_queries(path, per_class):
    """[(class, query), ...] from random live cards (the search benchmark's picker)."""
    from tests.bench.search import pick_queries
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        picked = pick_queries(connection, per_class)
    finally:
        connection.close()
    return [(kind, q) for kind in SEARCH_CLASSES for q in picked.get(kind, [])]


# --- gunicorn ---------------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``gunicorn -k gthread`` serving ``wsgi:create_app()`` on 127.0.0.1 in its own session;
    ``stop()`` ends exactly that process (and with it its workers)."""

    def __init__(self, url, workdir, workers, threads, port=None):
        self.port = port or free_port()
        self.workdir = Path(workdir)
        self.log_path = self.workdir / "gunicorn.log"
        self.command = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers),
                        "--threads", str(threads), "-b", f"127.0.0.1:{self.port}",
                        "--error-logfile", "-", "--log-level", "warning",
                        "wsgi:create_app()"]
        instance = self.workdir / "instance"
        instance.mkdir(parents=True, exist_ok=True)
        # The production section of README.md, on SQLite, in development mode (CC_ENV only adds
        # mandatory secrets, Secure cookies and HSTS): a shared SECRET_KEY, the outbox for mail,
        # a job queue file of its own. Every simulated user signs in from 127.0.0.1, so the
        # per-IP sign-in limit is raised (it is still counted).
        self.env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ["SECRET_KEY"],
                    "CC_INSTANCE_DIR": str(instance), "HUEY_URL": f"sqlite:///{instance}/jobs.db",
                    "HUEY_IMMEDIATE": "false", "MAIL_URL": "outbox", "DEMO_DATA": "false",
                    "COOKIE_SECURE": "false", "RATELIMIT_STORAGE_URI": "memory://",
                    "LOGIN_RATE_LIMIT": "100000 per minute", "PYTHONUNBUFFERED": "1"}
        self.process = None
        self._log = None

    def start(self, timeout=60):
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n"
                                   + self.log_tail())
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    return self
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n" + self.log_tail())

    def stop(self):
        """SIGTERM to gunicorn's master (its workers finish their requests and exit), SIGKILL
        if it is still there after 15 s. Only this process, by its PID."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_problems(self):
        """Tracebacks and error lines gunicorn and the app wrote to the log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return {"tracebacks": 0, "error_lines": 0, "samples": []}
        lines = text.splitlines()
        errors = [line for line in lines if "[ERROR]" in line or "[CRITICAL]" in line
                  or "Error:" in line or "locked" in line]
        return {"tracebacks": text.count("Traceback (most recent call last)"),
                "error_lines": len(errors), "samples": errors[:5]}


# --- one simulated browser ----------------------------------------------------------------------

class FormParser(HTMLParser):
    """The forms of a page: [{"action", "method", "fields": [(name, value), ...]}], with the
    values a browser would submit untouched (checked boxes, selected options, textareas)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get")
                          .lower(), "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            self._form["fields"].append((a["name"], a.get("value") or ("on" if kind in (
                "checkbox", "radio") else "")))
        elif tag == "select" and a.get("name") and "disabled" not in a:
            self._select = {"name": a["name"], "first": None, "chosen": []}
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in a:
                self._select["chosen"].append(value)
        elif tag == "textarea" and a.get("name") and "disabled" not in a:
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            chosen = self._select["chosen"] or ([self._select["first"]]
                                                if self._select["first"] is not None else [])
            for value in chosen:
                self._form["fields"].append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form["fields"].append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None


def forms_of(html):
    parser = FormParser()
    parser.feed(html)
    return parser.forms


class Failure(Exception):
    """A request that counts as an error (already recorded)."""


class Browser:
    """One user: a kept-alive HTTP/1.1 connection, a cookie jar, and every request timed into
    ``recorder``."""

    def __init__(self, port, recorder, timeout):
        self.port, self.recorder, self.timeout = port, recorder, timeout
        self.cookies, self.connection, self.csrf = {}, None, None

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _exchange(self, method, path, body, headers):
        fresh = self.connection is None
        if fresh:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                         timeout=self.timeout)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            return response, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if fresh:
                raise
            # The server closed the kept-alive connection before reading this request (its
            # keep-alive time ran out): a browser sends the request again on a new connection.
            self.recorder.reconnected()
            return self._exchange(method, path, body, headers)
        except BaseException:
            self.close()
            raise

    def request(self, kind, method, path, form=None, htmx=False, expect=(200,)):
        """Send one request; return (status, Location, text). Anything but an expected status,
        a time-out or a broken connection is recorded as an error and raises Failure."""
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept-Language": "zh-CN,zh;q=0.9",
                   "User-Agent": "cards-load/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            headers["HX-Request"] = "true"
        body = None
        if form is not None:
            body = urlencode(form).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if htmx and self.csrf:
                headers["X-CSRFToken"] = self.csrf
        started = time.perf_counter()
        try:
            response, raw = self._exchange(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            elapsed = time.perf_counter() - started
            self.recorder.add(kind, started, elapsed, False, f"{type(exc).__name__}: {exc}",
                              method, path)
            raise Failure(kind) from exc
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                self._keep_cookie(value)
        text = raw.decode("utf-8", errors="replace")
        location = response.getheader("Location") or ""
        ok = response.status in expect
        problem = None
        if not ok:
            problem = f"HTTP {response.status} {location} {text[:300]!r}"
        elif response.status in (301, 302, 303) and not kind.endswith("_login") \
                and urlsplit(location).path.rstrip("/").endswith("/login"):
            ok, problem = False, f"sent to sign-in: {location}"  # the session was lost
        self.recorder.add(kind, started, elapsed, ok, problem, method, path)
        if not ok:
            raise Failure(kind)
        match = CSRF_RE.search(text)
        if match:
            self.csrf = match.group(1)
        return response.status, location, text

    def _keep_cookie(self, header):
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        attrs = {a.strip().split("=")[0].lower(): a.strip() for a in attributes}
        gone = ("max-age" in attrs and attrs["max-age"].lower() in ("max-age=0", "max-age=-1")) \
            or ("expires" in attrs and "1970" in attrs["expires"])
        if gone or not value:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value


class Recorder:
    """Every request: (kind, start, seconds, ok); the first error messages."""

    def __init__(self, max_samples=10):
        self.rows, self.samples, self.max_samples = [], [], max_samples
        self.reconnects = 0
        self._lock = threading.Lock()

    def reconnected(self):
        with self._lock:
            self.reconnects += 1

    def add(self, kind, started, elapsed, ok, problem, method, path):
        self.rows.append((kind, started, elapsed, ok))
        if not ok:
            with self._lock:
                if len(self.samples) < self.max_samples:
                    self.samples.append({"kind": kind, "request": f"{method} {path}",
                                         "error": problem})


# --- the simulated users ---------------------------------------------------------------------

def business_today():
    """Today in the app's default time zone (Asia/Shanghai, UTC+8): follow-ups' due dates."""
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=8)).date()


class StaffUser:
    """A member of staff: signs in once, then searches, lists, opens cards and tabs, checks My
    day, adds interactions and follow-ups, marks follow-ups done."""

    def __init__(self, browser, account, queries, rng):
        self.b, self.account, self.queries, self.rng = browser, account, queries, rng
        self.cards = []

    def sign_in(self):
        self.b.request("staff_login_form", "GET", "/staff/login")
        self.b.request("staff_login", "POST", "/staff/login", expect=(302,), form={
            "csrf_token": self.b.csrf, "email": self.account["email"],
            "password": STAFF_PASSWORD, "next": ""})
        self._remember(self.b.request("list", "GET", "/staff/cards/")[2])

    def _remember(self, html):
        found = CARD_RE.findall(html)
        if found:
            self.cards = (self.cards + found)[-200:]

    def _card(self):
        return self.rng.choice(self.cards)

    def step(self, action):
        b, rng = self.b, self.rng
        if action == "search":
            kind, q = rng.choice(self.queries)
            self._remember(b.request(f"search_{kind}", "GET",
                                     f"/staff/cards/results?q={quote(q)}", htmx=True)[2])
        elif action == "list":
            self._remember(b.request("list", "GET", f"/staff/cards/?page={rng.randint(1, 20)}")[2])
        elif action == "card":
            b.request("card", "GET", f"/staff/cards/{self._card()}")
        elif action == "card_tab":
            b.request("card_tab", "GET",
                      f"/staff/cards/{self._card()}/{rng.choice(RECORD_KINDS)}/", htmx=True)
        elif action == "my_day":
            b.request("my_day", "GET", "/staff/tasks/")
        elif action == "add_interaction":
            card = self._card()
            path = f"/staff/cards/{card}/interaction/new"
            page = b.request("interaction_form", "GET", path)[2]
            form = next(f for f in forms_of(page) if f["method"] == "post"
                        and any(name == "subject" for name, _ in f["fields"]))
            fields = dict(form["fields"])
            fields.update(subject=f"负载测试 {rng.randint(1, 10**6)}",
                          request="客户来电咨询会员积分。", resolution="已解答。")
            b.request("interaction_save", "POST", path, form=fields, expect=(302,))
        elif action == "add_follow_up":
            card = self._card()
            due = business_today() + datetime.timedelta(days=rng.randint(0, 5))
            b.request("follow_up_save", "POST", "/staff/tasks/new", expect=(302,), form={
                "csrf_token": b.csrf, "customer": card, "title": f"回访 {rng.randint(1, 10**6)}",
                "due_date": due.isoformat(), "notes": "", "next": f"/staff/cards/{card}"})
        elif action == "task_done":
            page = b.request("my_day", "GET", "/staff/tasks/")[2]
            open_tasks = DONE_RE.findall(page)
            if open_tasks:
                b.request("task_done", "POST", f"/staff/tasks/{rng.choice(open_tasks)}/done",
                          form={"csrf_token": b.csrf, "next": "/staff/tasks/"}, htmx=True)


class PortalUser:
    """A customer in the portal: signs in once, then reads and edits their details and
    preferences and looks at their purchases."""

    CITIES = ("上海", "北京", "杭州", "成都", "深圳", "广州")

    def __init__(self, browser, account, queries, rng):
        self.b, self.account, self.rng = browser, account, rng

    def sign_in(self):
        self.b.request("portal_login_form", "GET", "/login")
        self.b.request("portal_login", "POST", "/login", expect=(302,), form={
            "csrf_token": self.b.csrf, "email": self.account["email"],
            "password": CUSTOMER_PASSWORD, "next": ""})

    def _save(self, kind, path, page, change):
        form = next((f for f in forms_of(page) if f["method"] == "post"
                     and f["action"] in ("", path)), None)
        if form is None:
            return
        fields = dict(form["fields"])
        change(fields)
        self.b.request(kind, "POST", path, form=fields, expect=(302,))

    def step(self, action):
        b, rng = self.b, self.rng
        if action == "portal_home":
            b.request("portal_home", "GET", "/")
        elif action == "purchases":
            b.request("portal_purchases", "GET", "/history/purchases")
        elif action in ("details", "details_save"):
            page = b.request("details", "GET", "/details/")[2]
            if action == "details_save":
                def change(fields):
                    if "city" in fields:
                        fields["city"] = rng.choice(self.CITIES)
                self._save("details_save", "/details/", page, change)
        elif action in ("preferences", "preferences_save"):
            page = b.request("preferences", "GET", "/preferences/")[2]
            if action == "preferences_save":
                self._save("preferences_save", "/preferences/", page, lambda fields: None)


class Clock:
    """When the measured window starts and when every user stops (set once all are signed in;
    until then a hard bound keeps the run finite)."""

    def __init__(self, stop_at):
        self.stop_at, self.window_start = stop_at, None
        self.signed_in = 0
        self._lock = threading.Lock()

    def signed(self):
        with self._lock:
            self.signed_in += 1


def baseline(port, staff_account, portal_account, queries, repeat, timeout, seed):
    """Each action ``repeat`` times in a row by one staff user and one customer, alone (no
    other simulated user is running): what a request costs without queueing. A recorder."""
    recorder, rng = Recorder(), random.Random(seed)
    for cls, account, mix in ((StaffUser, staff_account, STAFF_MIX),
                              (PortalUser, portal_account, PORTAL_MIX)):
        if account is None:
            continue
        user = cls(Browser(port, recorder, timeout), account, queries, random.Random(rng.random()))
        try:
            user.sign_in()
            for action in mix:
                # the search once per query class, each ``repeat`` times
                pools = ([[q for q in queries if q[0] == kind] for kind in SEARCH_CLASSES]
                         if action == "search" else [queries])
                for pool in pools:
                    user.queries = pool or queries
                    for _ in range(repeat):
                        try:
                            user.step(action)
                        except Failure:
                            pass
                user.queries = queries
        except Failure:
            pass
        finally:
            user.b.close()
    return recorder


def user_loop(user, start_at, clock, think, errors_out):
    """Sign in at ``start_at``, then work until ``clock.stop_at``; a failed request is
    recorded and the user carries on (signing in again if the sign-in itself failed)."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    mix = STAFF_MIX if isinstance(user, StaffUser) else PORTAL_MIX
    actions, weights = list(mix), list(mix.values())
    signed_in = False
    try:
        while time.monotonic() < clock.stop_at:
            try:
                if not signed_in:
                    user.sign_in()
                    signed_in = True
                    clock.signed()
                    continue
                user.step(user.rng.choices(actions, weights)[0])
            except Failure:
                time.sleep(0.2)
            except (StopIteration, LookupError, ValueError) as exc:
                # a page without what the user needs (a form, a link): reported, not hidden
                errors_out.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.2)
            if think:
                time.sleep(user.rng.uniform(0, think))
    finally:
        user.b.close()


# --- figures -----------------------------------------------------------------------------------

def percentile(sorted_values, p):
    if not sorted_values:
        return None
    rank = math.ceil(p / 100 * len(sorted_values))  # nearest rank
    return sorted_values[min(len(sorted_values), max(1, rank)) - 1]


def figures(rows, seconds):
    latencies = sorted(r[2] * 1000 for r in rows)
    errors = sum(1 for r in rows if not r[3])
    return {"count": len(rows), "errors": errors,
            "p50_ms": _round(percentile(latencies, 50)), "p95_ms": _round(percentile(latencies, 95)),
            "p99_ms": _round(percentile(latencies, 99)),
            "max_ms": _round(latencies[-1] if latencies else None),
            "rps": round(len(rows) / seconds, 1) if seconds else None}


def _round(value):
    return None if value is None else round(value, 1)


def summarise(rows, window_start, window_end):
    """Per kind and overall. Sign-ins count over the whole run (they happen in the ramp-up);
    everything else over the measured window (requests started in it)."""
    seconds = window_end - window_start
    measured = [r for r in rows if window_start <= r[1] < window_end and r[0] not in SIGN_IN_KINDS]
    kinds = {}
    for kind in sorted({r[0] for r in rows}):
        if kind in SIGN_IN_KINDS:
            kinds[kind] = figures([r for r in rows if r[0] == kind], None)
        else:
            kinds[kind] = figures([r for r in measured if r[0] == kind], seconds)
    return {"overall": figures(measured, seconds), "kinds": kinds,
            "errors_whole_run": sum(1 for r in rows if not r[3]),
            "requests_whole_run": len(rows)}


def _proc_cpu(pid):
    """utime + stime of one process in seconds, or 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(master_pid):
    """CPU seconds used so far by gunicorn's master and its live workers (Linux /proc)."""
    total = _proc_cpu(master_pid)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == master_pid:
                total += _proc_cpu(int(entry.name))
    return total


def machine_busy():
    """CPU seconds the whole machine spent busy so far (all cores, /proc/stat)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Where the machine's CPU went during the measured window: this runner (the simulated
    users), gunicorn, and everything else (other work on the shared machine)."""

    def __init__(self, master_pid):
        self.master_pid = master_pid
        self.start = self._sample()

    def _sample(self):
        own = os.times()
        return (time.monotonic(), own.user + own.system, server_cpu(self.master_pid),
                machine_busy())

    def stop(self):
        end = self._sample()
        wall, client, server = (end[i] - self.start[i] for i in range(3))
        cores = os.cpu_count() or 1
        result = {"wall_s": round(wall, 1), "cores": cores,
                  "client_cpu_s": round(client, 1), "server_cpu_s": round(server, 1)}
        if end[3] is not None and self.start[3] is not None:
            busy = end[3] - self.start[3]
            result.update(machine_busy_s=round(busy, 1),
                          others_cpu_s=round(max(0.0, busy - client - server), 1),
                          machine_busy_pct=round(100 * busy / (wall * cores), 1))
        return result


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --- main ------------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "cards-load" / "cards.db"),
                        help="the SQLite file the app serves (written to: use a copy)")
    parser.add_argument("--source", default=str(Path(tempfile.gettempdir()) / "cards-bench.db"),
                        help="a benchmark database to copy to --db when --db is missing "
                             "(read only); '' to seed --db with --customers instead")
    parser.add_argument("--fresh-copy", action="store_true",
                        help="copy --source again even if --db exists")
    parser.add_argument("--customers", type=int, default=100000)
    parser.add_argument("--transactions", type=int, default=1000000)
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated users")
    parser.add_argument("--portal-share", type=float, default=0.2,
                        help="the share of users that are portal customers (rest: staff)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time")
    parser.add_argument("--ramp", type=float, default=10.0,
                        help="users sign in spread over this many seconds; the measured "
                             "time starts when all are in")
    parser.add_argument("--think", type=float, default=0.2,
                        help="each user waits a random 0..THINK seconds between requests")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="a request taking longer is an error")
    parser.add_argument("--baseline", type=int, default=10,
                        help="before the load, one user alone runs each action this many "
                             "times (latency without queueing); 0 to skip")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn -w")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn --threads")
    parser.add_argument("--workdir", default=None,
                        help="gunicorn's instance folder and log (default: next to --db)")
    parser.add_argument("--out", default=str(OUT_DIR / "load.json"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be in (0, 3600]")
    if args.users < 1:
        parser.error("--users must be at least 1")
    return args


def _terminate_on_sigterm():
    """SIGTERM ends the run like Ctrl-C (so gunicorn is stopped in ``finally``)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


def main(argv=None):
    """Run the load test; print the summary and return it (also written as JSON)."""
    args = parse_args(argv)

    def say(message):
        if not args.quiet:
            print(message, flush=True)

    say(f"dataset: {args.db}")
    dataset = prepare_dataset(args, say)
    portal_users = round(args.users * args.portal_share)
    staff_users = args.users - portal_users
    roles = ["agent" if i % 4 else "manager" for i in range(staff_users)]  # 3 agents : 1 manager
    staff, customers = ensure_load_users(dataset["url"], roles, portal_users, say)
    queries = pick_search_queries(dataset["path"], 30)
    say(f"  {dataset['customers']:,} cards; {staff_users} staff ({roles.count('agent')} agents, "
        f"{roles.count('manager')} managers), {portal_users} portal customers, "
        f"{len(queries)} search queries")

    workdir = Path(args.workdir or Path(dataset["path"]).parent / "load-run")
    server = Server(dataset["url"], workdir, args.workers, args.threads)
    previous = _terminate_on_sigterm()
    recorder, crashes, threads, server_pid, alone = Recorder(), [], [], None, None
    load_before = loadavg()
    try:
        server.start()
        server_pid = server.process.pid
        say(f"gunicorn -k gthread -w {args.workers} --threads {args.threads} on 127.0.0.1:"
            f"{server.port} (pid {server.process.pid}); {args.users} users, ramp {args.ramp:g} s, "
            f"measured {args.seconds:g} s, think 0-{args.think * 1000:.0f} ms")
        if args.baseline:
            say(f"  baseline: each action {args.baseline} times by one user alone")
            alone = baseline(server.port, staff[0] if staff else None,
                             customers[0] if customers else None, queries, args.baseline,
                             args.timeout, args.seed)
        rng = random.Random(args.seed)
        begin = time.monotonic() + 0.2
        # Hard bound until everybody is in: the ramp, a minute for slow sign-ins, the window.
        clock = Clock(begin + args.ramp + 60 + args.seconds)
        users = [StaffUser(Browser(server.port, recorder, args.timeout), account, queries,
                           random.Random(rng.random())) for account in staff]
        users += [PortalUser(Browser(server.port, recorder, args.timeout), account, queries,
                             random.Random(rng.random())) for account in customers]
        rng.shuffle(users)
        for i, user in enumerate(users):
            start_at = begin + args.ramp * i / len(users)
            thread = threading.Thread(target=user_loop, name=f"user-{i}", daemon=True,
                                      args=(user, start_at, clock, args.think, crashes))
            thread.start()
            threads.append(thread)
        # The measured window starts once every user has signed in (sign-ins hash passwords:
        # slow on purpose) and after the ramp; it lasts --seconds.
        while (clock.signed_in < len(users) or time.monotonic() < begin + args.ramp) \
                and time.monotonic() < clock.stop_at - args.seconds:
            time.sleep(0.05)
        meter = CpuMeter(server_pid)
        window_start = time.monotonic()
        clock.stop_at = stop_at = window_start + args.seconds
        say(f"  {clock.signed_in} of {len(users)} users signed in after "
            f"{window_start - begin:.1f} s; measuring {args.seconds:g} s")
        for thread in threads:  # bounded: every loop ends at stop_at plus one request's timeout
            thread.join(max(0.0, stop_at - time.monotonic()) + args.timeout + 5)
        cpu = meter.stop()
        load_after = loadavg()
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    # perf_counter and monotonic share a clock on Linux; map the window onto perf_counter
    offset = time.perf_counter() - time.monotonic()
    result = summarise(recorder.rows, window_start + offset, stop_at + offset)
    overall = result["overall"]
    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(), "loadavg_before": load_before,
                    "loadavg_after": load_after, "cpu": cpu},
        "dataset": {k: dataset[k] for k in ("path", "customers", "transactions")},
        "settings": {"users": args.users, "staff": staff_users, "portal": portal_users,
                     "workers": args.workers, "threads": args.threads, "seconds": args.seconds,
                     "ramp": args.ramp, "think": args.think, "timeout": args.timeout,
                     "server": " ".join(server.command[1:])},
        **result,
        "baseline": None if alone is None else {
            "errors": sum(1 for r in alone.rows if not r[3]), "error_samples": alone.samples,
            "kinds": {kind: figures([r for r in alone.rows if r[0] == kind], None)
                      for kind in sorted({r[0] for r in alone.rows})}},
        "error_samples": recorder.samples,
        "runner_errors": crashes[:10],
        "runner_error_count": len(crashes),
        "reconnects": recorder.reconnects,
        "server_log": server.log_problems(),
        "server_pid": server_pid,
        "target": {"p95_ms": TARGET_P95_MS, "errors": 0,
                   "met": overall["errors"] == 0 and result["errors_whole_run"] == 0
                   and overall["p95_ms"] is not None and overall["p95_ms"] < TARGET_P95_MS},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    say("")
    say(format_summary(summary))
    say(f"\nresults written to {out}")
    return summary


def format_summary(summary):
    s = summary["settings"]
    head = (f"{s['users']} users ({s['staff']} staff, {s['portal']} portal) on gunicorn gthread "
            f"-w {s['workers']} --threads {s['threads']}, {s['seconds']:g} s measured; load "
            f"average before {summary['machine']['loadavg_before']}, after "
            f"{summary['machine']['loadavg_after']}")
    columns = (f"{'kind':<22}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
               f"{'max ms':>9}{'req/s':>9}{'alone p50':>11}")
    alone = (summary.get("baseline") or {}).get("kinds", {})
    cpu = summary["machine"]["cpu"]
    head += (f"\nCPU in the window ({cpu['wall_s']} s x {cpu['cores']} cores): gunicorn "
             f"{cpu['server_cpu_s']} s, the simulated users {cpu['client_cpu_s']} s, other "
             f"processes {cpu.get('others_cpu_s', '?')} s; machine busy "
             f"{cpu.get('machine_busy_pct', '?')}%")
    if summary["overall"]["count"]:
        head += (f"; gunicorn CPU per request "
                 f"{1000 * cpu['server_cpu_s'] / summary['overall']['count']:.1f} ms")
    lines = [head, "", columns]

    def row(name, f, base=None):
        def cell(v):
            return "-" if v is None else f"{v:.1f}"
        return (f"{name:<22}{f['count']:>8}{f['errors']:>8}{cell(f['p50_ms']):>9}"
                f"{cell(f['p95_ms']):>9}{cell(f['p99_ms']):>9}{cell(f['max_ms']):>9}"
                f"{cell(f['rps']):>9}{cell(base['p50_ms'] if base else None):>11}")

    for kind, f in summary["kinds"].items():
        lines.append(row(kind + (" *" if kind in SIGN_IN_KINDS else ""), f, alone.get(kind)))
    lines.append(row("OVERALL", summary["overall"]))
    lines.append("(* sign-ins: whole run, during the ramp-up; the rest: the measured window; "
                 "alone: one user by itself before the load)")
    if summary.get("baseline") and summary["baseline"]["errors"]:
        lines.append(f"errors when alone: {summary['baseline']['errors']}")
        lines.extend(f"  {e['kind']}: {e['request']} -> {e['error']}"
                     for e in summary["baseline"]["error_samples"])
    lines.append(f"errors over the whole run: {summary['errors_whole_run']} of "
                 f"{summary['requests_whole_run']} requests; kept-alive connections reopened: "
                 f"{summary['reconnects']}; runner errors: {summary['runner_error_count']}")
    for sample in summary["error_samples"]:
        lines.append(f"  {sample['kind']}: {sample['request']} -> {sample['error']}")
    for problem in summary["runner_errors"]:
        lines.append(f"  runner: {problem}")
    log = summary["server_log"]
    if log["tracebacks"] or log["error_lines"]:
        lines.append(f"server log: {log['tracebacks']} tracebacks, {log['error_lines']} error "
                     f"lines")
        lines.extend(f"  {line}" for line in log["samples"])
    target = summary["target"]
    lines.append(f"target: 0 errors and p95 < {target['p95_ms']:.0f} ms: "
                 f"{'MET' if target['met'] else 'NOT MET'} (p95 {summary['overall']['p95_ms']} ms,"
                 f" {summary['overall']['errors']} errors)")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
