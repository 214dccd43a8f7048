#!/usr/bin/env python3
"""An example hubctl connector (docs/exec-protocol.md): a "notes" store kept as one JSON file per
object in a folder. Every change bumps the record's version, which is the cursor; deleted
records stay as tombstones so incremental reads can report them.

hubctl starts it with the topology's connection.command, sends one JSON request per line on
stdin and reads one JSON answer per line on stdout. Diagnostics go to stderr.

Settings (connection.settings): {"data_dir": "notes-data"} (relative to the topology's folder).

It ends when hubctl does: at the end of its input (hubctl closed it, or died), on SIGTERM (the
default action), and — should hubctl be killed while a request is being worked on — when a
watchdog thread sees that its parent process has changed.
"""
import json
import os
import sys
import tempfile
import threading
import time

DATA_DIR = "."


def path_of(obj):
    name = obj["name"]
    if "/" in name or name.startswith("."):
        raise Refused("configuration", f"object names are file names in {DATA_DIR}; '{name}' is not one")
    return os.path.join(DATA_DIR, name + ".json")


class Refused(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def load(obj):
    path = path_of(obj)
    if not os.path.exists(path):
        return {"seq": 0, "rows": {}}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(obj, store):
    path = path_of(obj)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(store, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def record(rid, row):
    fields = dict(row["fields"])
    fields["version"] = row["version"]
    return {"id": rid, "fields": fields}


def op_open(req):
    global DATA_DIR
    DATA_DIR = req.get("settings", {}).get("data_dir", ".")
    return {"protocol": 1}


def op_read(req):
    obj, cursor, limit = req["object"], req.get("cursor"), req["limit"]
    store = load(obj)
    rows = sorted(store["rows"].items(), key=lambda kv: kv[1]["version"])
    if cursor is None or cursor.startswith("full:"):
        after = int(cursor[5:]) if cursor else 0
        live = [(k, r) for k, r in rows if not r.get("deleted") and r["version"] > after]
        page = live[:limit]
        more = len(live) > limit
        if more:
            return {"records": [record(k, r) for k, r in page], "next": f"full:{page[-1][1]['version']}", "last": False}
        final = f"since:{store['seq']}" if obj.get("cursor_field") else None
        return {"records": [record(k, r) for k, r in page], "next": final, "last": True}
    if not cursor.startswith("since:"):
        raise Refused("configuration", "unknown cursor; reset it to read from the start")
    after = int(cursor[6:])
    changed = [(k, r) for k, r in rows if r["version"] > after]
    page = changed[:limit]
    last_version = page[-1][1]["version"] if page else after
    return {
        "records": [record(k, r) for k, r in page if not r.get("deleted")],
        "deleted": [k for k, r in page if r.get("deleted")],
        "next": f"since:{last_version}",
        "last": len(changed) <= limit,
    }


def op_scan_ids(req):
    obj, cursor, limit = req["object"], req.get("cursor"), req["limit"]
    ids = sorted(k for k, r in load(obj)["rows"].items() if not r.get("deleted"))
    if cursor:
        ids = [i for i in ids if i > cursor[6:]]
    page = ids[:limit]
    more = len(ids) > limit
    return {"ids": page, "next": f"after:{page[-1]}" if more else None, "last": not more}


def op_fetch(req):
    rows = load(req["object"])["rows"]
    return {"records": [record(i, rows[i]) for i in req["ids"] if i in rows and not rows[i].get("deleted")]}


def op_write(req):
    obj = req["object"]
    store = load(obj)
    results = []
    for w in req["writes"]:
        if w["op"] == "create":
            fields = {k: v for k, v in w["fields"].items() if k != "version"}
            if any(isinstance(v, str) and len(v) > 10_000 for v in fields.values()):
                results.append({"status": "failed", "message": "a text value is longer than 10,000 characters"})
                continue
            store["seq"] += 1
            store["rows"][w["key"]] = {"fields": fields, "version": store["seq"], "deleted": False}
            results.append({"status": "created", "id": w["key"]})
        elif w["op"] == "update":
            row = store["rows"].get(w["id"])
            if row is None or row.get("deleted"):
                results.append({"status": "not_found"})
                continue
            store["seq"] += 1
            row["fields"].update({k: v for k, v in w["fields"].items() if k != "version"})
            row["version"] = store["seq"]
            results.append({"status": "updated"})
        elif w["op"] == "delete":
            row = store["rows"].get(w["id"])
            if row is not None and not row.get("deleted"):
                store["seq"] += 1
                row.update({"deleted": True, "version": store["seq"], "fields": {}})
            results.append({"status": "deleted"})
        else:
            results.append({"status": "failed", "message": f"unknown write op {w['op']}"})
    save(obj, store)
    return {"results": results}


def op_lookup_created(req):
    # Creates use hubctl's key as the record's ID, so a key names its record.
    rows = load(req["object"])["rows"]
    return {"ids": {k: k for k in req["keys"] if k in rows and not rows[k].get("deleted")}}


def op_count(req):
    return {"count": sum(1 for r in load(req["object"])["rows"].values() if not r.get("deleted"))}


def op_check(req):
    results = []
    for obj in req["objects"]:
        problems = []
        try:
            path_of(obj)
        except Refused as e:
            problems.append(str(e))
        if obj.get("cursor_field") not in (None, "version"):
            problems.append(f"this connector's cursor field is 'version', not '{obj['cursor_field']}'")
        results.append({"problems": problems, "warnings": []})
    return {"results": results}


def op_discover(req):
    objects = []
    names = sorted(f[:-5] for f in os.listdir(DATA_DIR) if f.endswith(".json")) if os.path.isdir(DATA_DIR) else []
    for obj in req["objects"]:
        if obj["name"] not in names:
            names.append(obj["name"])
    for name in names:
        rows = load({"name": name})["rows"].values()
        keys = sorted({k for r in rows for k in r["fields"]})
        fields = [{"name": "id", "type": "text", "key": True}, {"name": "version", "type": "integer"}]
        fields += [{"name": k, "type": "any"} for k in keys]
        objects.append({"name": name, "fields": fields})
    return {"objects": objects}


OPS = {"open": op_open, "read": op_read, "scan_ids": op_scan_ids, "fetch": op_fetch, "write": op_write,
       "check": op_check, "discover": op_discover, "lookup_created": op_lookup_created, "count": op_count}


def exit_when_orphaned():
    """Ends the connector if hubctl dies (even by SIGKILL) while a request is being handled."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(1)


def main():
    threading.Thread(target=exit_when_orphaned, daemon=True).start()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            handler = OPS.get(req["op"])
            if handler is None:
                raise Refused("configuration", f"unknown op {req['op']}")
            answer = handler(req)
        except Refused as e:
            answer = {"error": {"kind": e.kind, "message": str(e)}}
        except (OSError, ValueError) as e:
            answer = {"error": {"kind": "unavailable", "message": f"{type(e).__name__}: {e}"}}
        answer["id"] = req["id"]
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
