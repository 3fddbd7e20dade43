"""A small hand-written SVG chart of time against size (log-log), one panel per backend."""

from __future__ import annotations

import math
from html import escape
from typing import Any

# (key in a scaling entry, label, colour, dash pattern): ours solid, baselines dashed/dotted.
SERIES = (
    ("import_s", "import (ours)", "#1f77b4", ""),
    ("es_import_s", "import (plain eventsourcing)", "#1f77b4", "6,4"),
    ("raw_s", "insert (raw limit)", "#1f77b4", "2,3"),
    ("rebuild_s", "rebuild (ours)", "#2ca02c", ""),
    ("read_decode_s", "read + decode", "#2ca02c", "6,4"),
    ("verify_s", "verify (ours)", "#d62728", ""),
    ("read_s", "raw read", "#d62728", "6,4"),
)
PANEL_W, PANEL_H = 420, 300
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 60, 20, 40, 45
LEGEND_H = 80


def _decades(low: float, high: float) -> tuple[int, int]:
    lo = math.floor(math.log10(low))
    hi = math.ceil(math.log10(high))
    return (lo, hi) if hi > lo else (lo, lo + 1)


def _label(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _panel(name: str, entries: list[dict[str, Any]], left: float) -> list[str]:
    sizes = [float(e["size"]) for e in entries]
    times = [float(e[k]) for e in entries for k, *_ in SERIES if e.get(k)]
    title = f'<text x="{left + PANEL_W / 2}" y="22" text-anchor="middle" font-weight="bold">'
    out = [f"{title}{escape(name)}</text>"]
    if not sizes or not times:
        return out
    x_lo, x_hi = _decades(min(sizes), max(sizes))
    y_lo, y_hi = _decades(min(times), max(times))
    plot_w = PANEL_W - MARGIN_L - MARGIN_R
    plot_h = PANEL_H - MARGIN_T - MARGIN_B

    def x(value: float) -> float:
        return left + MARGIN_L + (math.log10(value) - x_lo) / (x_hi - x_lo) * plot_w

    def y(value: float) -> float:
        return MARGIN_T + plot_h - (math.log10(value) - y_lo) / (y_hi - y_lo) * plot_h

    x0, y0 = left + MARGIN_L, MARGIN_T + plot_h
    out.append(
        f'<rect x="{x0}" y="{MARGIN_T}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#999"/>'
    )
    for d in range(x_lo, x_hi + 1):
        px = x(10.0**d)
        out.append(f'<line x1="{px:.1f}" y1="{MARGIN_T}" x2="{px:.1f}" y2="{y0}" stroke="#eee"/>')
        out.append(
            f'<text x="{px:.1f}" y="{y0 + 16}" text-anchor="middle">{_label(10.0**d)}</text>'
        )
    for d in range(y_lo, y_hi + 1):
        py = y(10.0**d)
        out.append(
            f'<line x1="{x0}" y1="{py:.1f}" x2="{x0 + plot_w}" y2="{py:.1f}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{x0 - 6}" y="{py + 4:.1f}" text-anchor="end">{_label(10.0**d)} s</text>'
        )
    out.append(
        f'<text x="{x0 + plot_w / 2}" y="{y0 + 34}" text-anchor="middle">'
        "events (contacts imported)</text>"
    )
    for key, _label_text, colour, dash in SERIES:
        points = [(x(float(e["size"])), y(float(e[key]))) for e in entries if e.get(key)]
        if not points:
            continue
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
        )
        out.extend(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points
        )
    return out


def render(results: dict[str, Any], backends: list[str]) -> str:
    """The SVG text: time (s) against size for import, rebuild and verify and their baselines."""
    panels = [b for b in backends if isinstance(results.get(b), dict) and results[b].get("scaling")]
    width = max(620, PANEL_W * len(panels))
    height = PANEL_H + LEGEND_H
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
    )
    parts = [svg, f'<rect width="{width}" height="{height}" fill="white"/>']
    for i, backend in enumerate(panels):
        parts.extend(_panel(backend, results[backend]["scaling"], i * PANEL_W))
    for i, (_key, label, colour, dash) in enumerate(SERIES):
        lx = 20 + (i % 3) * 200
        ly = PANEL_H + 10 + (i // 3) * 20
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 30}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        parts.append(f'<text x="{lx + 36}" y="{ly + 4}">{escape(label)}</text>')
    parts.append(
        f'<text x="20" y="{height - 8}" fill="#555">'
        f"{escape(str(results.get('date', '')))} - {escape(str(results.get('machine', '')))}"
        "</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
