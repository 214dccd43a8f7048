#!/usr/bin/env python3
"""Prints the reliability battery's figures as one scorecard line and fails when a loss,
duplicate, leak, crash, hang, changed value, outside write, leftover process or unclear failure
figure is above zero, a coverage figure is below 100 %, or T9 ran fewer than 100 hostile cases.
The runs on a PostgreSQL hub (rows ending in `-postgres-hub`) and the worker faults (T11-workers)
are held to the same rules, and must be there."""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else ".build/reliability-scorecard.jsonl"
try:
    rows = [json.loads(line) for line in open(path) if line.strip()]
except FileNotFoundError:
    print(f"reliability: no scorecard at {path}; the battery did not run")
    sys.exit(1)

tests = {}
for row in rows:
    tests.setdefault(row.pop("test"), {}).update(row)

must_be_zero = ["duplicates", "orphans", "divergent_fields", "not_quiescent", "recovery_failures", "hub_integrity_failures",
                "echo_writes", "hub_entity_writes", "zombie_commits_accepted", "quarantined_remaining", "points_unreached",
                "leaks", "records_lost", "retry_after_violations", "non_retryable_retried",
                "crashes", "hangs", "changed_values", "outside_writes", "leftover_processes", "unclear_failures",
                "lost_updates", "dangling_refs", "last_sync_writes", "divergent_systems"]
PG = "-postgres-hub"
must_equal = [("T1", "cases_faulted", "cases"), ("T5-faults", "cases_faulted", "cases"), ("T6", "config_exact", "config_corpus"),
              ("T7", "quarantined", "bad_injected"), ("T7", "good_synced", "good_records"), ("T10", "exactly_one_ran", "trials")]
must_equal += [(test + PG, a, b) for test, a, b in must_equal if test != "T6"]
must_equal += [("T11-workers", "pauses_fenced", "pauses"), ("T11-workers", "kills_holding_lease", "kills")]
# Rows every CI run must write: the battery on a PostgreSQL hub, and the worker faults.
required = [t + PG for t in ["T1", "T5-faults", "T3", "T4", "T7", "T8", "T10", "T10-fencing"]] + ["T11-workers"]
failures = []
for test, figures in tests.items():
    for key in must_be_zero:
        if figures.get(key, 0) != 0:
            failures.append(f"{test} {key} = {figures[key]}")
# T9: the hostile-input battery must have run its full catalogue (PostgreSQL and Kinto included),
# and its value cases through a PostgreSQL hub.
for t9 in ["T9", "T9-postgres-hub"]:
    if t9 not in tests:
        failures.append(f"{t9} did not run")
    elif tests[t9].get("cases", 0) < 100:
        failures.append(f"{t9} cases = {tests[t9].get('cases', 0)}, fewer than 100")
for test, a, b in must_equal:
    if test in tests and tests[test].get(a) != tests[test].get(b):
        failures.append(f"{test} {a} = {tests[test].get(a)} of {tests[test].get(b)}")
# T3, the randomized convergence test: at least 500 sequences per run (a missing row is a failure too);
# on a PostgreSQL hub at least 40 (as many as fit in about a minute of CI).
if tests.get("T3", {}).get("sequences", 0) < 500:
    failures.append(f"T3 sequences = {tests.get('T3', {}).get('sequences', 0)}, fewer than 500")
if tests.get("T3" + PG, {}).get("sequences", 0) < 40:
    failures.append(f"T3{PG} sequences = {tests.get('T3' + PG, {}).get('sequences', 0)}, fewer than 40")
for test in required:
    if test not in tests:
        failures.append(f"{test} did not run")
# T11: every fault repeated at least three times.
if tests.get("T11-workers", {}).get("faults", 0) < 12:
    failures.append(f"T11-workers faults = {tests.get('T11-workers', {}).get('faults', 0)}, fewer than 4 kinds x 3")

def f(test, key, default="-"):
    return tests.get(test, {}).get(key, default)

parts = [
    f"crash_cases {f('T1', 'cases_faulted')}/{f('T1', 'cases')} ({f('T1', 'points_reached')} points)",
    f"duplicates {sum(t.get('duplicates', 0) for t in tests.values())}",
    f"orphans {f('T1', 'orphans')}",
    f"divergent {f('T1', 'divergent_fields')}",
    f"hub_integrity_failures {f('T2', 'hub_integrity_failures')}",
    f"faults_thrown {f('T5-faults', 'cases_faulted')}/{f('T5-faults', 'cases')}",
    f"echo_writes {f('T4', 'echo_writes')}",
    f"config_corpus {f('T6', 'config_exact')}/{f('T6', 'config_corpus')} exact",
    f"quarantined {f('T7', 'quarantined')}/{f('T7', 'bad_injected')} (good synced {f('T7', 'good_synced')}/{f('T7', 'good_records')})",
    f"lock {f('T10', 'exactly_one_ran')}/{f('T10', 'trials')}",
    f"zombie_commits {f('T10-fencing', 'zombie_commits_accepted')}",
]
if "T3" in tests:
    t3 = tests["T3"]
    parts.append(f"convergence {t3.get('sequences', 0)} sequences ({t3.get('operations', 0)} operations, "
                 f"{t3.get('faults_fired', 0)} faults, {t3.get('kills', 0)} kills, {t3.get('conflicts_expected', 0)} conflicts): "
                 f"duplicates {t3.get('duplicates', 0)}, lost_updates {t3.get('lost_updates', 0)}, "
                 f"dangling_refs {t3.get('dangling_refs', 0)}, last_sync_writes {t3.get('last_sync_writes', 0)}, "
                 f"divergent_systems {t3.get('divergent_systems', 0)}")
if "T8" in tests:
    scanned = tests["T8"].get("bytes_scanned", 0) / 1e6
    parts.append(f"secret_leaks {f('T8', 'leaks')} ({f('T8', 'canary_slots')} canary slots, "
                 f"{f('T8', 'places_scanned')} places, {scanned:.1f} MB scanned)")
if "T9" in tests:
    parts.append(f"hostile_cases {f('T9', 'cases')} (crashes {f('T9', 'crashes')}, hangs {f('T9', 'hangs')}, "
                 f"changed_values {f('T9', 'changed_values')}, outside_writes {f('T9', 'outside_writes')}, "
                 f"leftover_processes {f('T9', 'leftover_processes')}, unclear_failures {f('T9', 'unclear_failures')})")
pg_rows = sorted(t for t in tests if t.endswith(PG) and t != "T3" + PG)
if pg_rows:
    parts.append("on a PostgreSQL hub: " + ", ".join(
        f"{t[:-len(PG)]} " + " ".join(f"{k}={v}" for k, v in sorted(tests[t].items())
                                      if k in ("cases", "cases_faulted", "echo_writes", "crashes", "hangs", "changed_values", "quarantined", "bad_injected", "leaks",
                                               "places_scanned", "exactly_one_ran", "trials", "zombie_commits_accepted",
                                               "duplicates", "orphans", "divergent_fields"))
        for t in pg_rows))
if "T3" + PG in tests:
    t3 = tests["T3" + PG]
    parts.append(f"convergence on a PostgreSQL hub {t3.get('sequences', 0)} sequences ({t3.get('operations', 0)} operations, "
                 f"{t3.get('faults_fired', 0)} faults, {t3.get('kills', 0)} kills): duplicates {t3.get('duplicates', 0)}, "
                 f"lost_updates {t3.get('lost_updates', 0)}, divergent_systems {t3.get('divergent_systems', 0)}")
if "T11-workers" in tests:
    w = tests["T11-workers"]
    parts.append(f"worker faults {w.get('faults', 0)} ({w.get('kills', 0)} kills of lease holders, {w.get('pauses', 0)} pauses past the lease, "
                 f"{w.get('sessions_terminated', 0)} sessions terminated, {w.get('restarts', 0)} hub restarts; seed {w.get('seed', '-')}): "
                 f"fenced {w.get('pauses_fenced', 0)}/{w.get('pauses', 0)}, zombie_commits {w.get('zombie_commits_accepted', 0)}, "
                 f"duplicates {w.get('duplicates', 0)}, lost_updates {w.get('lost_updates', 0)}")
known = {"T1", "T2", "T3", "T4", "T5-faults", "T6", "T7", "T8", "T9", "T10", "T10-fencing", "T11-workers"} | set(pg_rows) | {"T3" + PG}
for extra in sorted(set(tests) - known):
    parts.append(extra + " " + " ".join(f"{k}={v}" for k, v in sorted(tests[extra].items())))
print("reliability: " + ", ".join(parts))
if failures:
    print("reliability FAILED: " + "; ".join(failures))
    sys.exit(1)
