"""A small hand-written SVG chart of time against size (log-log), one panel per backend.

Below it, when the run measured it, the HTTP figure (issue 28): ours against the plain FastAPI +
eventsourcing baseline, as ratios next to their targets, one group of bars per backend.
"""

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
# (metric, label, target, colour): the HTTP ratios; a bar meets its target on the marked side.
HTTP_BARS = (
    ("http_throughput_vs_baseline", "HTTP requests/s vs baseline (>= 1)", 1.0, "#9467bd"),
    ("http_p99_vs_baseline", "HTTP p99 vs baseline (<= 1.5)", 1.5, "#8c564b"),
)
HTTP_H = 150


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


def _http_panel(results: dict[str, Any], backends: list[str], top: float) -> list[str]:
    """Bars of the HTTP ratios per backend, on a linear scale from 0, with each target's line."""
    ran = [b for b in backends if isinstance(results.get(b), dict) and results[b].get("http")]
    values = [
        float(results[b][m]) for b in ran for m, *_ in HTTP_BARS if results[b].get(m) is not None
    ]
    if not values:
        return []
    scale_max = max([*values, *(t for _m, _l, t, _c in HTTP_BARS)]) * 1.1
    plot_h = HTTP_H - 50
    x0 = MARGIN_L
    base = top + 25 + plot_h

    def y(value: float) -> float:
        return base - value / scale_max * plot_h

    title = "HTTP adds, 32 clients: ours / plain FastAPI + eventsourcing (ratio; dashed: target)"
    out = [
        f'<text x="{x0}" y="{top + 14}" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{x0}" y1="{base}" x2="{x0 + 560}" y2="{base}" stroke="#999"/>',
    ]
    for i, name in enumerate(ran):
        group = x0 + 20 + i * 280
        http = results[name]["http"]
        failed = "" if http.get("ok") else " (checks failed)"
        out.append(
            f'<text x="{group + 100}" y="{base + 16}" text-anchor="middle">'
            f"{escape(name)}, {http['workers']} worker(s){failed}</text>"
        )
        for j, (metric, _label, target, colour) in enumerate(HTTP_BARS):
            bx = group + j * 110
            value = results[name].get(metric)
            ty = y(target)
            out.append(
                f'<line x1="{bx - 5}" y1="{ty:.1f}" x2="{bx + 85}" y2="{ty:.1f}" '
                'stroke="#333" stroke-dasharray="4,3"/>'
            )
            if value is None:
                continue
            by = y(float(value))
            out.append(
                f'<rect x="{bx}" y="{by:.1f}" width="80" height="{base - by:.1f}" fill="{colour}"/>'
            )
            out.append(
                f'<text x="{bx + 40}" y="{by - 4:.1f}" text-anchor="middle">{float(value):.2f}'
                "</text>"
            )
    for j, (_metric, label, _target, colour) in enumerate(HTTP_BARS):
        lx = x0 + 20 + j * 280
        ly = base + 34
        out.append(f'<rect x="{lx}" y="{ly - 8}" width="14" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 20}" y="{ly + 1}">{escape(label)}</text>')
    return out


def render(results: dict[str, Any], backends: list[str]) -> str:
    """The SVG text: time (s) against size for import, rebuild and verify and their baselines."""
    panels = [b for b in backends if isinstance(results.get(b), dict) and results[b].get("scaling")]
    width = max(620, PANEL_W * len(panels))
    http = _http_panel(results, backends, PANEL_H + LEGEND_H - 10)
    height = PANEL_H + LEGEND_H + (HTTP_H if http else 0)
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
    parts.extend(http)
    parts.append(
        f'<text x="20" y="{height - 8}" fill="#555">'
        f"{escape(str(results.get('date', '')))} - {escape(str(results.get('machine', '')))}"
        "</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
