#!/usr/bin/env python3
"""Draws Weft's icons (app icon and one tray icon per state) with the standard library only.

Weft is named after the weft thread of a loom: the app icon is a small weave, the focus tray
icon a bullseye (attention on one point), the coordination icon three nodes joined by
threads. Run `python3 scripts/make-icons.py` to redraw icons/ after changing this file.
"""
import math
import os
import struct
import sys
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "icons")
SS = 4  # supersampling per axis

INDIGO = (58, 54, 160)
AMBER = (240, 170, 40)
TEAL = (20, 150, 140)
WHITE = (255, 255, 255)


def png(path, size, shade):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SS):
                for sx in range(SS):
                    u = (x + (sx + 0.5) / SS) / size
                    v = (y + (sy + 0.5) / SS) / size
                    r, g, b, a = shade(u, v)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            n = SS * SS
            alpha = acc[3] / n
            if alpha > 0:
                rgb = [min(255, round(c / acc[3])) for c in acc[:3]]
            else:
                rgb = [0, 0, 0]
            row += bytes(rgb + [min(255, round(alpha * 255))])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def rounded_square(u, v, margin, radius):
    # distance-based test for a rounded square spanning [margin, 1 - margin]
    lo, hi = margin + radius, 1 - margin - radius
    dx = max(lo - u, 0, u - hi)
    dy = max(lo - v, 0, v - hi)
    return math.hypot(dx, dy) <= radius


def app_icon(u, v):
    if not rounded_square(u, v, 0.04, 0.18):
        return (0, 0, 0, 0)
    # a 4 x 4 weave: warp threads vertical (indigo), weft threads horizontal (amber)
    inner = 0.16
    if not (inner <= u <= 1 - inner and inner <= v <= 1 - inner):
        return INDIGO + (1,)
    cells = 4
    cu = (u - inner) / (1 - 2 * inner) * cells
    cv = (v - inner) / (1 - 2 * inner) * cells
    iu, iv = int(min(cu, cells - 1e-9)), int(min(cv, cells - 1e-9))
    fu, fv = cu - iu, cv - iv
    in_warp = 0.18 < fu < 0.82
    in_weft = 0.18 < fv < 0.82
    weft_on_top = (iu + iv) % 2 == 0
    if in_warp and in_weft:
        return (AMBER if weft_on_top else WHITE) + (1,)
    if in_weft:
        return AMBER + (1,)
    if in_warp:
        return WHITE + (1,)
    return INDIGO + (1,)


def focus_icon(u, v):
    d = math.hypot(u - 0.5, v - 0.5)
    # a bullseye: attention gathered on one point
    if d <= 0.14:
        return AMBER + (1,)
    if d <= 0.25:
        return (0, 0, 0, 0)
    if d <= 0.46:
        return INDIGO + (1,)
    return (0, 0, 0, 0)


def _segment_distance(u, v, a, b):
    px, py = u - a[0], v - a[1]
    sx, sy = b[0] - a[0], b[1] - a[1]
    t = max(0, min(1, (px * sx + py * sy) / (sx * sx + sy * sy)))
    return math.hypot(px - t * sx, py - t * sy)


def coordination_icon(u, v):
    # three people joined by threads: attention shared out
    nodes = []
    for k in range(3):
        ang = math.radians(90 + 120 * k)
        nodes.append((0.5 + 0.3 * math.cos(ang), 0.54 - 0.3 * math.sin(ang)))
    for n in nodes:
        if math.hypot(u - n[0], v - n[1]) < 0.15:
            return TEAL + (1,)
    for i in range(3):
        if _segment_distance(u, v, nodes[i], nodes[(i + 1) % 3]) < 0.05:
            return TEAL + (1,)
    return (0, 0, 0, 0)


def main():
    os.makedirs(OUT, exist_ok=True)
    png(os.path.join(OUT, "icon.png"), 256, app_icon)
    png(os.path.join(OUT, "128x128.png"), 128, app_icon)
    png(os.path.join(OUT, "32x32.png"), 32, app_icon)
    # The other hicolor sizes the desktop package installs (bundle.icon in tauri.conf.json).
    png(os.path.join(OUT, "48x48.png"), 48, app_icon)
    png(os.path.join(OUT, "64x64.png"), 64, app_icon)
    png(os.path.join(OUT, "512x512.png"), 512, app_icon)
    png(os.path.join(OUT, "tray-focus.png"), 64, focus_icon)
    png(os.path.join(OUT, "tray-coordination.png"), 64, coordination_icon)
    return 0


if __name__ == "__main__":
    sys.exit(main())
