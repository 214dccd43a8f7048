#!/usr/bin/env python3
"""Checks that PNG screenshots are not blank: a real size, enough distinct colours, and enough
pixels that differ from the page background. Prints one line per file; exits 1 if any fails.
Usage: png-check.py FILE..."""
import struct, sys, zlib

def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), f"unsupported PNG (depth {depth}, colour type {colour})"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line)); prev = line
    return width, height, bpp, rows

failed = False
for path in sys.argv[1:]:
    try:
        w, h, bpp, rows = pixels(path)
        colours, counts = set(), {}
        for row in rows[::4]:
            for x in range(0, len(row), bpp * 4):
                px = row[x:x + 3]; colours.add(px); counts[px] = counts.get(px, 0) + 1
        total = sum(counts.values())
        background = max(counts.values()) / total
        ok = len(colours) >= 16 and background < 0.97
        print(f"{'ok' if ok else 'BLANK'} {path}: {w}x{h}, {len(colours)} colours, background {background:.0%}")
        failed |= not ok
    except Exception as e:  # noqa: BLE001 - report any unreadable file as a failure
        print(f"BAD {path}: {e}"); failed = True
sys.exit(1 if failed else 0)
