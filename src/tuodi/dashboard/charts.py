"""Charts as inline SVG, drawn here: no script, no font or library from a CDN, so the page opens
offline exactly as written. Each mark carries its value (`data-value`) and a tooltip (`<title>`)."""
from __future__ import annotations

from decimal import Decimal
from html import escape

PALETTE = {"hifp_pay": "#4e79a7", "hifmi_pay": "#59a14f", "maf_pay": "#f28e2b", "tilt_pay": "#b07aa1",
           "oth_pay": "#76b7b2", "psn_part_amt": "#e15759"}


def _fmt_yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


def stacked_bars(title: str, rows: list[tuple[str, dict[str, int]]], series: dict[str, str],
                 chart_id: str) -> str:
    """Horizontal 100% stacked bars: one bar per row label, one segment per series (fen)."""
    label_w, bar_w, bar_h, gap, top = 230, 520, 22, 10, 34
    width = label_w + bar_w + 20
    per_line = max(1, width // 152)                      # legend entries of 152 px per line
    legend_lines = -(-len(series) // per_line)
    height = top + len(rows) * (bar_h + gap) + 22 + 18 * legend_lines
    parts = [f'<svg id="{chart_id}" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="18" class="chart-title">{escape(title)}</text>']
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        total = sum(values.get(k, 0) for k in series)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 6}" text-anchor="end">{escape(label)}</text>')
        x = float(label_w)
        for key, name in series.items():
            v = values.get(key, 0)
            w = 0.0 if total <= 0 else bar_w * v / total
            share = "" if total <= 0 else f" ({100 * v / total:.1f}%)"
            parts.append(f'<rect x="{x:.2f}" y="{y}" width="{max(w, 0):.2f}" height="{bar_h}" '
                         f'fill="{PALETTE.get(key, "#999")}" data-series="{key}" data-value="{Decimal(v) / 100}">'
                         f'<title>{escape(label)} · {escape(name)}: {_fmt_yuan(v)} 元{share}</title></rect>')
            x += max(w, 0)
    for i, (key, name) in enumerate(series.items()):
        lx, ly = 152 * (i % per_line), height - 14 - 18 * (legend_lines - 1 - i // per_line)
        parts.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{PALETTE.get(key, "#999")}"/>'
                     f'<text x="{lx + 16}" y="{ly}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def rate_lines(title: str, months: list[str], lines: dict[str, tuple[list[Decimal | None], str]],
               targets: list[tuple[str, Decimal, str]], chart_id: str) -> str:
    """Rates per month as lines (0–100%), with dashed target lines."""
    left, right, top, bottom = 50, 20, 34, 50
    plot_w, plot_h = max(320, 60 * max(1, len(months))), 240
    width, height = left + plot_w + right, top + plot_h + bottom
    step = plot_w / max(1, len(months))
    xs = [left + step * (i + 0.5) for i in range(len(months))]
    y = lambda r: top + plot_h * (1 - float(r))
    parts = [f'<svg id="{chart_id}" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="18" class="chart-title">{escape(title)}</text>']
    for pct in (0, 25, 50, 75, 100):
        yy = y(Decimal(pct) / 100)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{pct}%</text>')
    for x, m in zip(xs, months):
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{escape(m)}</text>')
    for name, value, color in targets:
        yy = y(value)
        parts.append(f'<line class="target" x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" '
                     f'stroke="{color}" stroke-dasharray="6 4" data-value="{value}"><title>{escape(name)}</title></line>')
    for name, (values, color) in lines.items():
        pts = [(x, v) for x, v in zip(xs, values) if v is not None]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for (x, v), m in zip(pts, [m for m, v in zip(months, values) if v is not None]):
            parts.append(f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="4" fill="{color}" data-series="{escape(name)}" '
                         f'data-value="{v}"><title>{escape(m)} {escape(name)}: {v * 100:.2f}%</title></circle>')
    lx = left
    for name, (_, color) in lines.items():
        parts.append(f'<rect x="{lx}" y="{height - 16}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{lx + 16}" y="{height - 6}">{escape(name)}</text>')
        lx += 150
    parts.append("</svg>")
    return "".join(parts)
