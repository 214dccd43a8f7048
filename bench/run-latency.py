#!/usr/bin/env python3
"""Latency of `hubctl run`: an edit made in one system, announced by a trigger, until it is
visible in every other system. Not a test: it measures and prints.

Two sets of systems (--systems):

- `sqlite` (the default): two SQLite databases (crm, app), each sending Standard Webhooks, and a
  CSV file (sheet) read on its one-minute schedule only. Edits alternate between crm and app.
- `four`, the set of issue 13: PostgreSQL with change capture (`hubctl capture install`, the
  topology's `"capture": {"notify": true}`: no webhook, its triggers notify), Kinto, SQLite and a
  CSV file. Kinto has no webhook sender of its own: after each edit made through Kinto's HTTP
  API, this script sends the signed Standard Webhook a Kinto listener would send. The SQLite and
  CSV edits are followed by a webhook too (as an application's hook or a file watcher would
  send). PostgreSQL and Kinto come from scripts/with-test-services.sh (the HUBCTL_TEST_*
  variables); the PostgreSQL client is pg8000, installed on first use in .build/bench-venv.

Every schedule is one minute, so only the triggers make anything fast. The customers are
spread everywhere by the first cycle; then N single-record edits, spaced by a random 50-500 ms,
each made with the system's own tool (SQL through a PostgreSQL client, HTTP PATCH to Kinto,
Python's sqlite3, a rewrite of the CSV file), each followed by polling every other system until
it shows the new value. The latency runs from the PostgreSQL commit or from the webhook
delivery (sent right after the edit) to the moment the last other system shows the value.

Afterwards:
- duplicated and divergent records (every system read back and compared);
- a burst of 1,000 deliveries from 32 concurrent senders (each on a kept-alive connection):
  how long until all are answered, their answer times, how many cycles and hub commits they
  cost, the process's memory before and after;
- the same burst while a cycle pulls --bulk new records into the hub (pages of 1,000, each one
  hub transaction): how long a delivery waits behind a page;
- the CPU an idle `run` uses over 30 s.

    bench/run-latency.py [--systems sqlite|four] [--hubctl PATH] [--edits 200] [--json]

Prints the figures, then a Markdown table ready to paste into docs/performance.md, with the
machine's load (uptime) at each step.
"""
import argparse, base64, concurrent.futures, csv, hashlib, hmac, http.client, json, os, random, sqlite3, statistics
import subprocess, sys, tempfile, threading, time, urllib.parse, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "whsec_" + base64.b64encode(b"latency-benchmark-secret-key").decode()
SQLITE_SCHEMA = """CREATE TABLE {t} (id INTEGER PRIMARY KEY, email TEXT NOT NULL, {f} TEXT,
    modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
CREATE TRIGGER touch AFTER UPDATE ON {t} FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
BEGIN UPDATE {t} SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;"""
HOOK = {"secrets": ["${BENCH_HOOK_SECRET}"], "debounce": "20ms"}
EVERY = {"every": "1m"}


def load():
    """The load averages, as uptime prints them."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---- webhooks -----------------------------------------------------------------------------------

def sign(msg_id, ts, body):
    key = base64.b64decode(SECRET[len("whsec_"):])
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def hook_headers(msg_id, body):
    ts = str(int(time.time()))
    return {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sign(msg_id, ts, body),
            "content-type": "application/json"}


class Sender:
    """A webhook sender on one kept-alive connection (as a sender's HTTP client pools them)."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def post(self, system, msg_id, body=b'{"type":"customer.updated"}'):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request("POST", f"/hooks/{system}", body=body, headers=hook_headers(msg_id, body))
                r = self.conn.getresponse()
                r.read()
                return r.status
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt:
                    raise


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"))


# ---- the process --------------------------------------------------------------------------------

def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def quantiles(values):
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
    return {"p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000, "max": max(values) * 1000}


def ms(v):
    return "–" if v is None else f"{v:.0f} ms"


# ---- systems ------------------------------------------------------------------------------------

class SQLiteSystem:
    tool = "Python's sqlite3"

    def __init__(self, d, name, db, table, field, hook=True):
        self.name, self.path, self.table, self.field, self.hook = name, f"{d}/{db}", table, field, hook
        self.topology = {"adapter": "sqlite", "connection": {"path": db}, "schedule": EVERY,
                         "entities": {"customer": {"object": table, "cursor": "modified_at",
                                                   "fields": {"email": "email", "first_name": field}}}}
        if hook:
            self.topology["webhook"] = HOOK
        c = sqlite3.connect(self.path)
        c.executescript(SQLITE_SCHEMA.format(t=table, f=field))
        c.commit()
        c.close()

    def seed(self, customers):
        c = sqlite3.connect(self.path)
        c.executemany(f"INSERT INTO {self.table} (email, {self.field}) VALUES (?, ?)", customers)
        c.commit()
        c.close()

    def edit(self, email, value):
        c = sqlite3.connect(self.path, timeout=10)
        c.execute(f"UPDATE {self.table} SET {self.field} = ? WHERE email = ?", (value, email))
        c.commit()
        c.close()

    def values(self):
        c = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return c.execute(f"SELECT email, {self.field} FROM {self.table}").fetchall()
        finally:
            c.close()

    def value(self, email):
        c = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            r = c.execute(f"SELECT {self.field} FROM {self.table} WHERE email = ?", (email,)).fetchone()
            return r[0] if r else None
        finally:
            c.close()


class CSVSystem:
    tool = "a rewrite of the file (temporary file renamed over it)"

    def __init__(self, d, name, hook):
        self.name, self.hook = name, hook
        self.path = f"{d}/{name}/customers.csv"
        self.topology = {"adapter": "csv", "connection": {"path": name}, "schedule": EVERY,
                         "entities": {"customer": {"object": "customers.csv", "id": "Row ID",
                                                   "fields": {"email": "Email", "first_name": "First"}}}}
        if hook:
            self.topology["webhook"] = HOOK
        os.makedirs(f"{d}/{name}")
        with open(self.path, "w") as f:
            f.write("Row ID,Email,First\n")

    def rows(self):
        with open(self.path, newline="") as f:
            return list(csv.DictReader(f))

    def edit(self, email, value):
        rows = self.rows()
        for row in rows:
            if row["Email"] == email:
                row["First"] = value
        tmp = self.path + ".edit"
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["Row ID", "Email", "First"])
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, self.path)

    def values(self):
        return [(r["Email"], r["First"]) for r in self.rows()]

    def value(self, email):
        for row in self.rows():
            if row["Email"] == email:
                return row["First"]
        return None


class PostgresSystem:
    tool = "SQL through a PostgreSQL client (pg8000), one transaction per edit"
    hook = False

    def __init__(self, schema):
        import pg8000.native
        env = os.environ
        self.schema = schema
        self.args = dict(host=env["HUBCTL_TEST_POSTGRES_HOST"], port=int(env["HUBCTL_TEST_POSTGRES_PORT"]),
                         user=env["HUBCTL_TEST_POSTGRES_USER"], password=env["HUBCTL_TEST_POSTGRES_PASSWORD"],
                         database=env["HUBCTL_TEST_POSTGRES_DATABASE"])
        self.editor = pg8000.native.Connection(**self.args, application_name="bench-editor")
        self.reader = pg8000.native.Connection(**self.args, application_name="bench-reader")
        for statement in (
                f"CREATE SCHEMA {schema}",
                f"""CREATE TABLE {schema}.customers (id serial PRIMARY KEY, email text UNIQUE NOT NULL, first_name text,
                    updated_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
                f"""CREATE FUNCTION {schema}.touch() RETURNS trigger LANGUAGE plpgsql AS
                    $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$""",
                f"""CREATE TRIGGER customers_touch BEFORE UPDATE ON {schema}.customers
                    FOR EACH ROW EXECUTE FUNCTION {schema}.touch()"""):
            self.editor.run(statement)
        self.name = "pg"
        self.topology = {"adapter": "postgres",
                         "connection": {"host": "${BENCH_PGHOST}", "port": "${BENCH_PGPORT}", "database": "${BENCH_PGDATABASE}",
                                        "user": "${BENCH_PGUSER}", "password": "${BENCH_PGPASSWORD}", "schema": schema,
                                        "sslmode": "disable"},
                         "schedule": EVERY, "capture": {"notify": True, "debounce": "20ms"},
                         "entities": {"customer": {"object": "customers", "id": "id", "cursor": "updated_at",
                                                   "fields": {"email": "email", "first_name": "first_name"}}}}

    def environment(self):
        a = self.args
        return {"BENCH_PGHOST": a["host"], "BENCH_PGPORT": str(a["port"]), "BENCH_PGDATABASE": a["database"],
                "BENCH_PGUSER": a["user"], "BENCH_PGPASSWORD": a["password"]}

    def seed(self, customers):
        self.editor.run("START TRANSACTION")
        for email, name in customers:
            self.editor.run(f"INSERT INTO {self.schema}.customers (email, first_name) VALUES (:e, :n)", e=email, n=name)
        self.editor.run("COMMIT")

    def edit(self, email, value):
        # pg8000's native connection autocommits: the UPDATE is its own transaction, committed on return.
        self.editor.run(f"UPDATE {self.schema}.customers SET first_name = :v WHERE email = :e", v=value, e=email)

    def values(self):
        return [tuple(r) for r in self.reader.run(f"SELECT email, first_name FROM {self.schema}.customers")]

    def value(self, email):
        rows = self.reader.run(f"SELECT first_name FROM {self.schema}.customers WHERE email = :e", e=email)
        return rows[0][0] if rows else None

    def drop(self):
        self.editor.run(f"DROP SCHEMA {self.schema} CASCADE")


class KintoSystem:
    tool = "HTTP PATCH to Kinto's records API, then the webhook a Kinto listener would send"
    hook = True

    def __init__(self, token):
        self.root = os.environ["HUBCTL_TEST_KINTO_URL"].rstrip("/")
        self.user, self.password, self.bucket = f"bench{token}", f"pw-{token}", f"bench{token}"
        self.name = "kinto"
        self.auth = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        u = urllib.parse.urlsplit(self.root)
        self.host, self.port, self.base = u.hostname, u.port, u.path
        self.local = threading.local()
        self.request("PUT", f"/accounts/{self.user}", {"data": {"password": self.password}}, auth=False)
        self.request("PUT", f"/buckets/{self.bucket}")
        self.request("PUT", f"/buckets/{self.bucket}/collections/contacts")
        self.records = f"/buckets/{self.bucket}/collections/contacts/records"
        self.ids = {}
        self.topology = {"adapter": "rest",
                         "connection": {"base_url": self.root,
                                        "auth": {"type": "basic", "username": self.user, "password": "${BENCH_KINTO_PASSWORD}"},
                                        "retry": {"max_attempts": 5, "base_delay": 0.5, "max_delay": 20},
                                        "endpoint": {"records": "data", "record": "data", "envelope": "data",
                                                     "limit_param": "_limit", "since_param": "_since",
                                                     "query": {"_sort": "last_modified"},
                                                     "pagination": {"style": "header", "header": "Next-Page"},
                                                     "tombstone": {"field": "deleted", "value": True}, "if_match": True}},
                         "schedule": EVERY, "webhook": HOOK,
                         "entities": {"customer": {"object": "contacts", "id": "id", "cursor": "last_modified",
                                                   "endpoint": {"path": self.records.lstrip("/")},
                                                   "fields": {"email": "email", "first_name": "first_name"}}}}

    def environment(self):
        return {"BENCH_KINTO_PASSWORD": self.password}

    def request(self, method, path, body=None, auth=True):
        conn = getattr(self.local, "conn", None)
        for attempt in range(2):
            try:
                if conn is None:
                    conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                headers = {"content-type": "application/json"}
                if auth:
                    headers["authorization"] = self.auth
                conn.request(method, self.base + path, body=json.dumps(body).encode() if body is not None else None,
                             headers=headers)
                r = conn.getresponse()
                data = r.read()
                if r.status >= 300:
                    raise RuntimeError(f"Kinto {method} {path}: {r.status} {data[:200]!r}")
                return json.loads(data) if data else None
            except (http.client.HTTPException, OSError):
                conn = self.local.conn = None
                if attempt:
                    raise

    def all(self):
        out, path = [], self.records + "?_limit=10000"
        data = self.request("GET", path)["data"]
        out.extend(data)
        return out

    def learn_ids(self):
        self.ids = {r["email"]: r["id"] for r in self.all() if "email" in r}

    def edit(self, email, value):
        self.request("PATCH", f"{self.records}/{self.ids[email]}", {"data": {"first_name": value}})

    def values(self):
        return [(r.get("email"), r.get("first_name")) for r in self.all()]

    def value(self, email):
        if email not in self.ids:
            self.learn_ids()
            if email not in self.ids:
                return None
        try:
            return self.request("GET", f"{self.records}/{self.ids[email]}")["data"].get("first_name")
        except RuntimeError:
            return None


# ---- the benchmark ------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", choices=["sqlite", "four"], default="sqlite")
    ap.add_argument("--hubctl", default=".build/release/hubctl")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--customers", type=int, default=200)
    ap.add_argument("--bulk", type=int, default=20000, help="records pulled during the second burst (0: skip it)")
    ap.add_argument("--idle", type=float, default=30, help="seconds of idle measured")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.systems == "four":
        try:
            import pg8000  # noqa: F401
        except ImportError:
            venv = os.path.join(ROOT, ".build/bench-venv")
            if os.path.abspath(sys.prefix) == venv:
                sys.exit("pg8000 did not install into .build/bench-venv")
            if not os.path.exists(f"{venv}/bin/python"):
                subprocess.run([sys.executable, "-m", "venv", venv], check=True)
                subprocess.run([f"{venv}/bin/pip", "install", "-q", "pg8000"], check=True)
            os.execv(f"{venv}/bin/python", [f"{venv}/bin/python"] + sys.argv)
        for name in ("HUBCTL_TEST_POSTGRES_HOST", "HUBCTL_TEST_KINTO_URL"):
            if name not in os.environ:
                sys.exit(f"{name} is not set: start scripts/with-test-services.sh and load its environment file "
                         "(set -a; . ENVFILE; set +a)")
    hubctl = os.path.abspath(args.hubctl)
    d = tempfile.mkdtemp(prefix="hubctl-latency-")
    token = "%08x" % random.getrandbits(32)
    env = dict(os.environ, BENCH_HOOK_SECRET=SECRET)
    steps = []  # (step, load) for the table

    # The systems; `sources` are where edits are made, in turn.
    if args.systems == "sqlite":
        crm = SQLiteSystem(d, "crm", "crm.db", "contacts", "first_name")
        app = SQLiteSystem(d, "app", "app.db", "users", "name")
        sheet = CSVSystem(d, "sheet", hook=False)
        systems, sources, seeded = [crm, app, sheet], [crm, app], crm
    else:
        pg = PostgresSystem(f"lat_{token}")
        kinto = KintoSystem(token)
        lite = SQLiteSystem(d, "lite", "lite.db", "users", "name")
        sheet = CSVSystem(d, "sheet", hook=True)
        systems, sources, seeded = [pg, kinto, lite, sheet], [pg, kinto, lite, sheet], pg
        env.update(pg.environment())
        env.update(kinto.environment())
    # A system of its own for the bulk pull of the second burst: events only it holds.
    bulk_path = f"{d}/bulk.db"
    b = sqlite3.connect(bulk_path)
    b.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY, key TEXT NOT NULL, payload TEXT,"
                    " modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));")
    b.close()
    topology = {
        "version": 1, "name": "latency", "hub": {"path": "latency.hub.sqlite"},
        "entities": {"customer": {"fields": {"email": {"type": "string", "required": True}, "first_name": {"type": "string"}},
                                  "match": [["email"]]},
                     "event": {"fields": {"key": {"type": "string", "required": True}, "payload": {"type": "string"}},
                               "match": [["key"]]}},
        "systems": {s.name: s.topology for s in systems},
    }
    topology["systems"]["bulk"] = {"adapter": "sqlite", "connection": {"path": "bulk.db"}, "schedule": EVERY, "webhook": HOOK,
                                   "entities": {"event": {"object": "events", "cursor": "modified_at",
                                                          "fields": {"key": "key", "payload": "payload"}}}}
    with open(f"{d}/topology.json", "w") as f:
        json.dump(topology, f, indent=2)
    customers = [(f"c{i}@example.com", f"Customer {i}") for i in range(args.customers)]
    seeded.seed(customers)
    if args.systems == "four":
        out = subprocess.run([hubctl, "capture", "install", "pg", "-t", f"{d}/topology.json"], env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"hubctl capture install failed: {out.stderr}")

    log = open(f"{d}/run.log", "w")
    proc = subprocess.Popen([hubctl, "run", "-t", f"{d}/topology.json", "--listen", "127.0.0.1:0", "--log-format", "json"],
                            stderr=subprocess.PIPE, env=env, text=True)
    port = None
    for line in proc.stderr:
        log.write(line)
        event = json.loads(line)
        if event.get("event") == "http.listening":
            port = event["port"]
            break
    if port is None:
        log.close()
        sys.exit(f"hubctl run did not start (exit {proc.wait()}); its log: {d}/run.log")
    # The rest of stderr goes to the file so the pipe never fills.
    threading.Thread(target=lambda: [log.write(line) for line in proc.stderr], daemon=True).start()
    sender = Sender(port)

    try:
        # The first cycle spreads the customers everywhere.
        t0 = time.monotonic()
        last = customers[-1][0]
        while time.monotonic() - t0 < 300 and not all(s.value(last) for s in systems):
            time.sleep(0.1)
        first_sync = time.monotonic() - t0
        if args.systems == "four":
            kinto.learn_ids()
        steps.append(("first cycle", load()))

        rng = random.Random(42)
        latencies, from_edit, per_source, lost = [], [], {s.name: [] for s in sources}, 0
        runs_before_edits, cpu_before_edits = metric(port, "hubctl_runs_total"), cpu_ticks(proc.pid)
        for i in range(args.edits):
            time.sleep(rng.uniform(0.05, 0.5))
            email, value = customers[rng.randrange(args.customers)][0], f"Edit {i}"
            source = sources[i % len(sources)]
            others = [s for s in systems if s is not source]
            edit_start = time.monotonic()
            source.edit(email, value)
            start = time.monotonic()  # the commit (PostgreSQL) or the webhook delivery
            if source.hook:
                sender.post(source.name, f"evt-{token}-{i}")
            pending = list(others)
            while pending:
                pending = [s for s in pending if s.value(email) != value]
                if not pending:
                    now = time.monotonic()
                    latencies.append(now - start)
                    from_edit.append(now - edit_start)
                    per_source[source.name].append(now - start)
                elif time.monotonic() - start > 30:
                    lost += 1
                    break
                else:
                    time.sleep(0.002)
        edit_cycles = metric(port, "hubctl_runs_total") - runs_before_edits
        edit_cpu = (cpu_ticks(proc.pid) - cpu_before_edits) / os.sysconf("SC_CLK_TCK")
        edit_metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        steps.append((f"{args.edits} edits", load()))

        # Read every system back: duplicates (an email twice, or more records than customers) and
        # divergence (a customer whose name differs between systems).
        time.sleep(1)
        contents = {s.name: s.values() for s in systems}
        duplicated = sum(max(0, len(rows) - len({e for e, _ in rows})) + max(0, len({e for e, _ in rows}) - args.customers)
                         for rows in contents.values())
        maps = [dict(rows) for rows in contents.values()]
        divergent = sum(1 for email, _ in customers if len({m.get(email) for m in maps}) > 1)

        # A burst: 1,000 deliveries to one system from 32 concurrent senders.
        target = "crm" if args.systems == "sqlite" else "lite"

        def burst(label):
            runs0, commits0 = metric(port, "hubctl_runs_total"), metric(port, "hubctl_webhook_commits_total")
            rss0 = rss_kib(proc.pid)
            senders = [Sender(port) for _ in range(32)]
            answers = []
            lock = threading.Lock()

            def send(k):
                s = senders[k % 32]
                outcomes = []
                for j in range(k, 1000, 32):
                    t = time.monotonic()
                    status = s.post(target, f"{label}-{token}-{j}")
                    outcomes.append((status, time.monotonic() - t))
                with lock:
                    answers.extend(outcomes)

            t = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
                list(pool.map(send, range(32)))
            seconds = time.monotonic() - t
            return {"seconds": seconds, "answered_200": sum(1 for s, _ in answers if s == 200),
                    "answered_503": sum(1 for s, _ in answers if s == 503),
                    "answer": quantiles([a for _, a in answers]), "rss_before_mib": rss0 / 1024,
                    "runs0": runs0, "commits": metric(port, "hubctl_webhook_commits_total") - commits0}

        quiet = burst("burst")
        time.sleep(1.5)
        quiet["cycles"] = metric(port, "hubctl_runs_total") - quiet.pop("runs0")
        quiet["rss_after_mib"] = rss_kib(proc.pid) / 1024
        steps.append(("burst", load()))

        # The same burst while a cycle pulls `bulk` new records into the hub.
        loaded = None
        if args.bulk:
            b = sqlite3.connect(bulk_path)
            b.executemany("INSERT INTO events (key, payload) VALUES (?, ?)",
                          [(f"e{i}", "x" * 200) for i in range(args.bulk)])
            b.commit()
            b.close()
            runs0 = metric(port, "hubctl_runs_total")
            sender.post("bulk", f"bulk-{token}")
            time.sleep(0.3)  # the debounce window, and the cycle under way
            loaded = burst("loaded")
            pulled = 'hubctl_records_total{system="bulk",entity="event",direction="pull",operation="created"}'
            deadline = time.monotonic() + 600
            while metric(port, pulled) < args.bulk and time.monotonic() < deadline:
                time.sleep(0.2)
            loaded["bulk_cycle_runs"] = metric(port, "hubctl_runs_total") - runs0
            time.sleep(2)
            loaded.pop("runs0")
            steps.append((f"burst during a pull of {args.bulk:,}", load()))

        # Idle: nothing due (schedules are one minute; the last cycle just ran).
        time.sleep(2)
        t1, c1 = time.monotonic(), cpu_ticks(proc.pid)
        time.sleep(args.idle)
        idle_cpu = (cpu_ticks(proc.pid) - c1) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t1)
        steps.append(("idle", load()))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if args.systems == "four":
            pg.drop()

    # Where the time goes: cycles from the log, trigger latency from the metrics.
    cycles = []
    with open(f"{d}/run.log") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == "cycle.finished":
                cycles.append(float(e["seconds"]))

    def summed(prefix):
        out = {}
        for line in edit_metrics.splitlines():
            if line.startswith(prefix):
                labels, v = line[len(prefix):].rsplit(" ", 1)
                out[labels] = float(v)
        return out

    trig_sum, trig_count = summed("hubctl_trigger_to_synced_seconds_sum"), summed("hubctl_trigger_to_synced_seconds_count")
    trigger_means = {k: 1000 * trig_sum[k] / trig_count[k] for k in trig_sum if trig_count.get(k)}

    q = quantiles(latencies)
    result = {
        "systems": [s.name for s in systems], "hubctl": hubctl, "edits": args.edits, "visible": len(latencies), "lost": lost,
        "duplicated_records": duplicated, "divergent_customers": divergent,
        "first_cycle_seconds": round(first_sync, 2), "cycles_during_edits": int(edit_cycles),
        "cpu_ms_per_cycle_during_edits": round(1000 * edit_cpu / edit_cycles, 1) if edit_cycles else None,
        **{f"{k}_ms": round(v, 1) for k, v in q.items() if v is not None},
        "from_edit_start": {k: round(v, 1) for k, v in quantiles(from_edit).items() if v is not None},
        "per_source_ms": {name: {k: round(v, 1) for k, v in quantiles(v).items() if v is not None}
                          for name, v in per_source.items()},
        "cycle_seconds_median": round(statistics.median(cycles), 3) if cycles else None, "cycles": len(cycles),
        "trigger_to_synced_mean_ms": {k: round(v, 1) for k, v in trigger_means.items()},
        "burst": quiet, "burst_during_bulk_pull": loaded,
        "idle_cpu_percent_of_a_core": round(idle_cpu * 100, 3), "exit_code": proc.returncode, "dir": d,
        "load": steps,
    }
    if args.json:
        print(json.dumps(result, indent=2, default=lambda o: round(o, 3) if isinstance(o, float) else str(o)))
    else:
        for k, v in result.items():
            print(f"{k:28} {v}")
    print()
    print(markdown(args, result, systems, quiet, loaded))


def markdown(args, r, systems, quiet, loaded):
    names = {"crm": "SQLite `crm`", "app": "SQLite `app`", "sheet": "CSV `sheet`", "pg": "PostgreSQL `pg`",
             "kinto": "Kinto `kinto`", "lite": "SQLite `lite`"}
    loads = dict(r["load"])
    def trigger(s):
        return "change capture" if s.name == "pg" else "webhook" if s.hook else "schedule only"

    rows = [("systems", ", ".join(f"{names[s.name]} ({trigger(s)})" for s in systems)),
            ("binary", f"`{os.path.relpath(r['hubctl'], ROOT) if r['hubctl'].startswith(ROOT) else r['hubctl']}`"),
            ("first cycle (spreads the customers)", f"{r['first_cycle_seconds']} s"),
            ("edits visible in every other system", f"{r['visible']} of {r['edits']} ({r['lost']} lost, "
                                                    f"{r['duplicated_records']} records duplicated, {r['divergent_customers']} customers divergent)"),
            ("latency p50 / p95 / p99 / max", " / ".join(ms(r.get(f"{k}_ms")) for k in ("p50", "p95", "p99", "max"))
             + f" (load {loads.get(f'{args.edits} edits', '?')})")]
    for name, q in r["per_source_ms"].items():
        rows.append((f"… edits made in {names[name]}", " / ".join(ms(q.get(k)) for k in ("p50", "p95", "p99", "max"))))
    rows.append(("cycle duration, median", f"{r['cycle_seconds_median'] * 1000:.0f} ms over {r['cycles']} cycles"
                 if r["cycle_seconds_median"] is not None else "–"))
    means = [(k.split('system="')[1].rstrip('"}'), k.split('trigger="')[1].split('"')[0], v)
             for k, v in r["trigger_to_synced_mean_ms"].items() if 'system="bulk"' not in k]
    if means:
        rows.append(("trigger → end of its cycle, mean (`hubctl_trigger_to_synced_seconds`)",
                     ", ".join(f"{system} ({trigger}) {v:.0f} ms" for system, trigger, v in sorted(means))))
    if r["cpu_ms_per_cycle_during_edits"] is not None:
        rows.append(("CPU of `hubctl run` per cycle during the edits",
                     f"{r['cpu_ms_per_cycle_during_edits']:.0f} ms ({r['cycles_during_edits']} cycles)"))

    def burst_row(b):
        a = b["answer"]
        return (f"all 1,000 answered in {b['seconds']:.2f} s ({b['answered_200']} × 200, {b['answered_503']} × 503); "
                f"answer p50 {ms(a['p50'])}, p99 {ms(a['p99'])}, max {ms(a['max'])}; {b['commits']:.0f} hub commits")

    rows.append(("1,000 webhook deliveries (32 senders)", burst_row(quiet) + f"; {quiet['cycles']:.0f} cycles; memory "
                 f"{quiet['rss_before_mib']:.1f} → {quiet['rss_after_mib']:.1f} MiB (load {loads.get('burst', '?')})"))
    if loaded:
        key = f"burst during a pull of {args.bulk:,}"
        rows.append((f"the same, while a cycle pulls {args.bulk:,} records", burst_row(loaded) + f" (load {loads.get(key, '?')})"))
    rows.append(("idle `hubctl run`", f"{r['idle_cpu_percent_of_a_core']:.2f} % of a core (load {loads.get('idle', '?')})"))
    width = max(len(a) for a, _ in rows)
    lines = [f"Measured {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, `bench/run-latency.py --systems {args.systems} "
             f"--edits {args.edits}`:", "", "| measure | value |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
