#!/usr/bin/env python3
"""Grows `hubctl demo DIR` to N customers, for measuring sync-all and audit at scale.

Usage: hubctl demo big && scripts/grow-demo.py big 100000 && hubctl sync-all -t big/topology.json
"""
# crm holds all N customers, the app every second one (same emails, so they link), the sheet
# every fourth.
import sqlite3, sys, csv
d, n = sys.argv[1], int(sys.argv[2])
crm = sqlite3.connect(d + "/crm.db")
crm.executemany("INSERT INTO contacts (email_address, given_name, family_name, country_code, phone, owner_id) VALUES (?,?,?,?,?,?)",
                ((f"c{i}@example.com", f"First{i}", f"Last{i}", ["DE", "BR", "US", "FR", "JP"][i % 5], f"+49 {i:07d}", 1 + i % 2) for i in range(n)))
crm.commit()
app = sqlite3.connect(d + "/app.db")
app.executemany("INSERT INTO users (id, email, full_name, country, plan) VALUES (?,?,?,?,?)",
                ((f"a-{i}", f"c{i}@example.com", f"First{i} Last{i}", ["Germany", "Brazil", "USA", "France", "Japan"][i % 5], "free") for i in range(0, n, 2)))
app.commit()
with open(d + "/sheet/customers.csv", "a", newline="") as f:
    w = csv.writer(f)
    for i in range(0, n, 4):
        w.writerow([f"s-{i}", f"c{i}@example.com", f"First{i}", f"Last{i}", ["Germany", "Brazil", "USA", "France", "Japan"][i % 5]])
