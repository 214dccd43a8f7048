#!/usr/bin/env python3
"""Shares of a `perf record --call-graph dwarf` profile of a sync, by part of the sync.

    perf record -F 250 --call-graph dwarf,16384 -o sync.data .build/release/hubctl sync-all -t topology.json
    perf script -i sync.data > sync.script
    bench/perf-groups.py sync.script

A sample counts towards every part whose function is on its stack (parts nest: the indented
ones are inside the ones above), so the shares do not add up to 100 %. The last lines give the
share of samples whose innermost frame is in SQLite, or in the Swift runtime and libc
(retain/release, allocation, hashing, copying).
"""
import collections,re,sys
blocks=open(sys.argv[1]).read().split('\n\n')
def frames(b):
    out=[]
    for l in b.split('\n')[1:]:
        l=l.strip()
        if not l: continue
        parts=l.split(' ',1)
        if len(parts)<2: continue
        out.append(re.sub(r'\+0x[0-9a-f]+ .*$','',parts[1]).replace(' (inlined)',''))
    return out
groups=[('pull: PageMerger (map, match, hub writes)','PageMerger'),('push: pushBatch (prepare, intents, links)','EngineV9pushBatch'),
        ('  hub link rows (saveLink: xref upsert)','TransactionV8saveLink'),('spoke SQLite writes (creates, create keys)','SpokeSQLite0bA0V5write'),
        ('  pull: createEntity','createEntity'),('  pull: linkExisting','linkExisting'),('  push: prepare/project','EngineV7prepare'),
        ('  intents','Intent'),('fsync (hub and systems)','fsync'),('source reads (SpokeSQLite read)','SpokeSQLite0bA0V15read'),
        ('statement arguments (key path)','KeyPath'),('entitiesChanged (push reads)','entitiesChanged')]
tot=0; c=collections.Counter()
for b in blocks:
    fr=frames(b)
    if not fr: continue
    tot+=1
    for name,pat in groups:
        if any(pat in f for f in fr): c[name]+=1
print('samples',tot)
for name,_ in groups: print(f"{100*c[name]/tot:5.1f}%  {name}")
sqlite=runtime=0
for b in blocks:
    lines=[l for l in b.split('\n')[1:] if l.strip()]
    if not lines: continue
    if 'libsqlite3' in lines[0]: sqlite+=1
    if 'libswiftCore' in lines[0] or 'libc.so' in lines[0]: runtime+=1
print(f"{100*sqlite/tot:5.1f}%  innermost frame in SQLite")
print(f"{100*runtime/tot:5.1f}%  innermost frame in the Swift runtime or libc")
