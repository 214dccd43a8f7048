#!/usr/bin/env python3
"""Latency of `hubctl run`: an edit made in one system, announced by a signed webhook, until it
is visible in every other system. Not a test: it measures and prints.

Systems: two SQLite databases (crm, app), each sending Standard Webhooks, and a CSV file (sheet,
read on its schedule). Each of N edits changes one record in crm or app with Python's sqlite3
module (a client of its own, as a person's tool would be), commits, sends the webhook with curl's
equivalent (urllib), then polls the other two systems until the new value is there. Edits are
spaced by a random 50-500 ms. Afterwards: a burst of 1,000 deliveries from 32 concurrent senders (how many
cycles it costs, and the process's memory before and after), and the CPU an idle `run` uses.

    bench/run-latency.py [--hubctl .build/release/hubctl] [--edits 200] [--json]

Prints p50/p95/p99/max of the latency, edits lost (not visible within 30 s) and duplicated
records, the burst figures and the idle CPU.
"""
import argparse, base64, concurrent.futures, csv, hashlib, hmac, json, os, random, sqlite3, statistics, subprocess, sys, tempfile, time
import urllib.request

SECRET = "whsec_" + base64.b64encode(b"latency-benchmark-secret-key").decode()

TOPOLOGY = {
    "version": 1,
    "name": "latency",
    "hub": {"path": "latency.hub.sqlite"},
    "entities": {"customer": {"fields": {"email": {"type": "string", "required": True},
                                          "first_name": {"type": "string"}},
                              "match": [["email"]]}},
    "systems": {
        "crm": {"adapter": "sqlite", "connection": {"path": "crm.db"},
                "schedule": {"every": "1m"},
                "webhook": {"secrets": ["${BENCH_HOOK_SECRET}"], "debounce": "20ms"},
                "entities": {"customer": {"object": "contacts", "cursor": "modified_at",
                                          "fields": {"email": "email", "first_name": "first_name"}}}},
        "app": {"adapter": "sqlite", "connection": {"path": "app.db"},
                "schedule": {"every": "1m"},
                "webhook": {"secrets": ["${BENCH_HOOK_SECRET}"], "debounce": "20ms"},
                "entities": {"customer": {"object": "users", "cursor": "modified_at",
                                          "fields": {"email": "email", "first_name": "name"}}}},
        "sheet": {"adapter": "csv", "connection": {"path": "sheet"},
                  "schedule": {"every": "1m"},
                  "entities": {"customer": {"object": "customers.csv", "id": "Row ID",
                                            "fields": {"email": "Email", "first_name": "First"}}}},
    },
}

SCHEMA = """CREATE TABLE {t} (id INTEGER PRIMARY KEY, email TEXT NOT NULL, {f} TEXT,
    modified_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
CREATE TRIGGER touch AFTER UPDATE ON {t} FOR EACH ROW WHEN NEW.modified_at = OLD.modified_at
BEGIN UPDATE {t} SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;"""


def sign(msg_id, ts, body):
    key = base64.b64decode(SECRET[len("whsec_"):])
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def post(port, system, msg_id, body=b'{"type":"customer.updated"}'):
    ts = str(int(time.time()))
    req = urllib.request.Request(f"http://127.0.0.1:{port}/hooks/{system}", data=body, method="POST", headers={
        "webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": sign(msg_id, ts, body)})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


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


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hubctl", default=".build/release/hubctl")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--customers", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    hubctl = os.path.abspath(args.hubctl)
    d = tempfile.mkdtemp(prefix="hubctl-latency-")
    with open(f"{d}/topology.json", "w") as f:
        json.dump(TOPOLOGY, f, indent=2)
    for db, table, field in (("crm.db", "contacts", "first_name"), ("app.db", "users", "name")):
        c = sqlite3.connect(f"{d}/{db}")
        c.executescript(SCHEMA.format(t=table, f=field))
        c.commit()
        c.close()
    c = sqlite3.connect(f"{d}/crm.db")
    c.executemany("INSERT INTO contacts (email, first_name) VALUES (?, ?)",
                  [(f"c{i}@example.com", f"Customer {i}") for i in range(args.customers)])
    c.commit()
    c.close()
    os.makedirs(f"{d}/sheet")
    with open(f"{d}/sheet/customers.csv", "w") as f:
        f.write("Row ID,Email,First\n")

    env = dict(os.environ, BENCH_HOOK_SECRET=SECRET)
    log = open(f"{d}/run.log", "w")
    proc = subprocess.Popen([hubctl, "run", "-t", f"{d}/topology.json", "--listen", "127.0.0.1:0",
                             "--log-format", "json"], stderr=subprocess.PIPE, env=env, text=True)
    port = None
    for line in proc.stderr:
        event = json.loads(line)
        if event.get("event") == "http.listening":
            port = event["port"]
            break
    # The rest of stderr goes to a file so the pipe never fills.
    subprocess.Popen(["cat"], stdin=proc.stderr, stdout=log)

    def csv_value(email):
        with open(f"{d}/sheet/customers.csv", newline="") as f:
            for row in csv.DictReader(f):
                if row["Email"] == email:
                    return row["First"]
        return None

    def db_value(db, table, field, email):
        c = sqlite3.connect(f"file:{d}/{db}?mode=ro", uri=True, timeout=5)
        try:
            r = c.execute(f"SELECT {field} FROM {table} WHERE email = ?", (email,)).fetchone()
            return r[0] if r else None
        finally:
            c.close()

    # Wait for the first cycle to spread the customers everywhere.
    deadline = time.time() + 120
    while time.time() < deadline and csv_value(f"c{args.customers - 1}@example.com") is None:
        time.sleep(0.05)

    rng = random.Random(42)
    latencies, lost = [], 0
    for i in range(args.edits):
        time.sleep(rng.uniform(0.05, 0.5))
        n = rng.randrange(args.customers)
        email, value = f"c{n}@example.com", f"Edit {i}"
        source = "crm" if i % 2 == 0 else "app"
        db, table, field = ("crm.db", "contacts", "first_name") if source == "crm" else ("app.db", "users", "name")
        c = sqlite3.connect(f"{d}/{db}", timeout=10)
        c.execute(f"UPDATE {table} SET {field} = ? WHERE email = ?", (value, email))
        c.commit()
        c.close()
        start = time.monotonic()
        post(port, source, f"evt-{i}")
        others = [lambda: csv_value(email)]
        if source == "crm":
            others.append(lambda: db_value("app.db", "users", "name", email))
        else:
            others.append(lambda: db_value("crm.db", "contacts", "first_name", email))
        while True:
            if all(get() == value for get in others):
                latencies.append(time.monotonic() - start)
                break
            if time.monotonic() - start > 30:
                lost += 1
                break
            time.sleep(0.002)

    counts = {
        "crm": sqlite3.connect(f"{d}/crm.db").execute("SELECT COUNT(*) FROM contacts").fetchone()[0],
        "app": sqlite3.connect(f"{d}/app.db").execute("SELECT COUNT(*) FROM users").fetchone()[0],
    }
    with open(f"{d}/sheet/customers.csv") as f:
        counts["sheet"] = sum(1 for _ in f) - 1
    duplicated = sum(max(0, n - args.customers) for n in counts.values())

    # A burst: 1,000 deliveries for crm as fast as one client sends them.
    runs_before = metric(port, "hubctl_runs_total")
    rss_before = rss_kib(proc.pid)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(lambda i: post(port, "crm", f"burst-{i}"), range(1000)))
    burst_seconds = time.monotonic() - t0
    burst_accepted = sum(1 for s in statuses if s == 200)
    time.sleep(1.0)
    burst_cycles = metric(port, "hubctl_runs_total") - runs_before
    rss_after = rss_kib(proc.pid)

    # Idle: 30 s with nothing due (schedules are 1 minute; the last cycle just ran).
    time.sleep(2)
    t1, c1 = time.monotonic(), cpu_ticks(proc.pid)
    time.sleep(30)
    idle_cpu = (cpu_ticks(proc.pid) - c1) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t1)

    proc.terminate()
    proc.wait(timeout=60)

    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0] * 99
    result = {
        "edits": args.edits, "visible": len(latencies), "lost": lost, "duplicated_records": duplicated,
        "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "burst_deliveries": 1000, "burst_answered_200": burst_accepted, "burst_seconds": round(burst_seconds, 2), "burst_cycles": int(burst_cycles),
        "rss_before_burst_mib": round(rss_before / 1024, 1), "rss_after_burst_mib": round(rss_after / 1024, 1),
        "idle_cpu_percent_of_a_core": round(idle_cpu * 100, 3), "exit_code": proc.returncode, "dir": d,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:28} {v}")


if __name__ == "__main__":
    main()
