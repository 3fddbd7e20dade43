"""Inline SVG charts for the HTML report: no script, no external asset, readable in print.

A chart is a plain `<svg>` string built from counts. Every drawn data mark carries
`class="mark"` and a `<title>` with its exact figure, so a reader (or a test in a real
browser) can tell a drawn bar from an empty frame, and a screen reader can read each value.
A chart with nothing to draw says so in words rather than showing an empty frame.
"""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 680, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 28, 46
# Colour-blind-safe palette (Okabe-Ito); print keeps it, and each series also has a legend.
TICKS = 5  # axis maxima are 5, 10, 20, 50, ...: five steps give whole numbers
LABEL_W = 44  # room one axis label needs, in pixels
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")


def _nice_max(value: int) -> int:
    """A round axis maximum at or above `value`."""
    if value <= 5:  # noqa: PLR2004 - small counts get a 0..5 axis
        return 5
    step = 1
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _frame(title: str, desc: str, body: list[str], height: int = HEIGHT) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )
    return head + "".join(body) + "</svg>"


def _legend(names: list[str], colours: tuple[str, ...] = PALETTE) -> list[str]:
    parts: list[str] = []
    x = LEFT
    for i, name in enumerate(names):
        colour = colours[i % len(colours)]
        parts.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="17" font-size="11">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return parts


def _empty(title: str, desc: str) -> str:
    return _frame(
        title,
        desc,
        [
            (
                f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" font-size="13" '
                'fill="#555">nothing recorded in the period</text>'
            )
        ],
    )


def bar_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    *,
    stacked: bool = False,
    desc: str = "",
) -> str:
    """Bars per label (a week or a month), one colour per series, stacked or side by side."""
    if not labels or not any(any(values) for _, values in series):
        return _empty(title, desc)
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    peak = max(totals) if stacked else max(max(values) for _, values in series)
    top = _nice_max(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(labels)
    body = _legend([name for name, _ in series])
    for tick in range(TICKS + 1):
        value = top * tick / TICKS
        y = TOP + plot_h - plot_h * tick / TICKS
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
            f"{value:g}</text>"
        )
    every = -(-len(labels) // max(1, int(plot_w // LABEL_W)))
    for i, label in enumerate(labels):
        x0 = LEFT + i * slot
        if i % every == 0:
            body.append(
                f'<text x="{x0 + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="9" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        base: float = TOP + plot_h
        width = slot * 0.8 if stacked else slot * 0.8 / len(series)
        for j, (name, values) in enumerate(series):
            value = values[i]
            if value <= 0:
                continue
            height = plot_h * value / top
            x = x0 + slot * 0.1 + (0 if stacked else j * width)
            y = base - height
            body.append(
                f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{max(width, 1.0):.1f}" '
                f'height="{max(height, 1.0):.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(label)}: {value}</title></rect>"
            )
            if stacked:
                base = y
    body.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#333" stroke-width="1"/>'
    )
    return _frame(title, desc, body)


def clock_chart(title: str, rows: list[tuple[str, float, float | None]], *, desc: str = "") -> str:
    """Horizontal bars in hours: each row's deadline, and where given, the time actually taken.

    `rows` are (label, deadline hours, hours taken or None). A taken bar past its deadline is
    drawn in the warning colour, so an overdue clock is visible at a glance and in print.
    """
    if not rows:
        return _empty(title, desc)
    longest = max(max(deadline, taken or 0.0) for _, deadline, taken in rows)
    top = float(_nice_max(int(longest) + 1))
    label_w = 200
    plot_w = WIDTH - label_w - RIGHT
    row_h = 26.0
    body = _legend(
        ["deadline", "met in time", "late, or open past its deadline"],
        (PALETTE[0], PALETTE[2], PALETTE[4]),
    )
    for i, (label, deadline, taken) in enumerate(rows):
        y = TOP + 8 + i * row_h
        body.append(
            f'<text x="{label_w - 6}" y="{y + row_h * 0.6:.1f}" font-size="10" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="mark" x="{label_w}" y="{y:.1f}" width="{plot_w * deadline / top:.1f}" '
            f'height="{row_h * 0.4:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: deadline {deadline:g} h</title></rect>"
        )
        if taken is not None:
            colour = PALETTE[4] if taken > deadline else PALETTE[2]
            body.append(
                f'<rect class="mark" x="{label_w}" y="{y + row_h * 0.45:.1f}" '
                f'width="{max(plot_w * taken / top, 1.0):.1f}" height="{row_h * 0.4:.1f}" '
                f'fill="{colour}"><title>{escape(label)}: {taken:g} h taken</title></rect>'
            )
    axis_y = TOP + 8 + len(rows) * row_h + 4
    for tick in range(5):
        x = label_w + plot_w * tick / 4
        body.append(
            f'<text x="{x:.1f}" y="{axis_y + 12:.1f}" font-size="10" text-anchor="middle">'
            f"{top * tick / 4:g} h</text>"
        )
    return _frame(title, desc, body, int(axis_y + 22))
