"""Pictures of what recurrent networks do, as self-contained SVG (no plotting
library): a language model's tokens in a row, their surprisal, and for each
recurrent layer the mean activation of each gate at each token, as a heatmap;
and the vanishing gradient, as a line chart of the gradient by distance."""

import math
from html import escape
from typing import Dict, List, Tuple

from .torch_modules.gates import MAIN_GATES

LABEL_WIDTH = 150
ROW_HEIGHT = 24
MIN_COLUMN = 44
CHAR_WIDTH = 7.5
FONT = "font-family: Arial, sans-serif; font-size: 12px"


def gates_svg(gates: Dict, title: str = "") -> str:
    """An SVG heatmap of LanguageModel.gates(doc): a column per unit read, a
    row of surprisal (bits; darker is more surprising) and, per layer, a row
    per gate with its mean over the layer's units (darker is more open)."""
    units: List[str] = gates["units"]
    surprisal = [float(value) for value in gates["surprisal"]]
    widths = [max(MIN_COLUMN, CHAR_WIDTH * len(unit) + 12) for unit in units]
    lefts = [LABEL_WIDTH + sum(widths[:i]) for i in range(len(widths))]
    rows: List[Tuple[str, List[float], float]] = [
        ("surprisal (bits)", surprisal, max(surprisal, default=1.0) or 1.0)
    ]
    shown = MAIN_GATES.get(gates["cell"], ())
    for number, layer in enumerate(gates["layers"], start=1):
        for gate in shown:
            means = [float(value) for value in layer[gate].mean(axis=1)]
            rows.append((f"layer {number} {gate} gate", means, 1.0))
    top = 30 if title else 8
    width = (lefts[-1] + widths[-1] if units else LABEL_WIDTH) + 8
    height = top + ROW_HEIGHT * (len(rows) + 1) + (24 if not shown else 8)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height}" style="{FONT}">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    if title:
        parts.append(f'<text x="8" y="20" font-weight="bold">{escape(title)}</text>')
    for left, unit, column in zip(lefts, units, widths):
        parts.append(_text(left + column / 2, top + 16, unit, middle=True))
    for row, (label, values, scale) in enumerate(rows, start=1):
        y = top + ROW_HEIGHT * row
        parts.append(_text(8, y + 16, label))
        for left, value, column in zip(lefts, values, widths):
            share = min(max(value / scale, 0.0), 1.0)
            colour = _shade(share, surprising=row == 1)
            parts.append(
                f'<rect x="{left:.1f}" y="{y}" width="{column - 2:.1f}" '
                f'height="{ROW_HEIGHT - 2}" fill="{colour}"/>'
            )
            ink = "white" if share > 0.6 else "black"
            parts.append(_text(left + column / 2, y + 16, f"{value:.2f}", True, ink))
    if not shown:
        note = f"a {gates['cell']} cell has no gates"
        parts.append(_text(8, top + ROW_HEIGHT * (len(rows) + 1) + 14, note))
    parts.append("</svg>")
    return "\n".join(parts)


def _text(x: float, y: float, text: str, middle: bool = False, ink: str = "black"):
    anchor = ' text-anchor="middle"' if middle else ""
    return f'<text x="{x:.1f}" y="{y}"{anchor} fill="{ink}">{escape(text)}</text>'


def _shade(share: float, surprising: bool) -> str:
    """White to blue for gates, white to orange for surprisal."""
    end = (217, 95, 2) if surprising else (33, 102, 172)
    red, green, blue = (round(255 + (e - 255) * share) for e in end)
    return f"rgb({red},{green},{blue})"


# Gradient curves: a colour per cell, dashed before training.
CELL_COLOURS = {
    "rnn": "rgb(217,95,2)",
    "gru": "rgb(27,158,119)",
    "lstm": "rgb(33,102,172)",
}
# Gradients below this are drawn on the chart's floor (they underflow to 0).
GRADIENT_FLOOR = 1e-12
PLOT = {"left": 70, "top": 40, "width": 520, "height": 300}


def gradient_svg(curves: Dict[str, List[float]], title: str = "") -> str:
    """A line chart, log scale, of gradient norms by distance: one curve per
    label ("lstm, after training": the colour from the cell at its start, a
    dashed line for labels with "before")."""
    if not curves:
        raise ValueError("No gradient curves to draw.")
    length = max(len(curve) for curve in curves.values())
    logs = {
        label: [math.log10(max(value, GRADIENT_FLOOR)) for value in curve]
        for label, curve in curves.items()
    }
    low = math.floor(min(min(values) for values in logs.values()))
    high = math.ceil(max(max(values) for values in logs.values()))
    high = max(high, low + 1)
    left, top = PLOT["left"], PLOT["top"]
    plot_width, plot_height = PLOT["width"], PLOT["height"]

    def x_of(k: float) -> float:
        return left + plot_width * k / max(length - 1, 1)

    def y_of(log: float) -> float:
        return top + plot_height * (high - log) / (high - low)

    legend_top = top + plot_height + 50
    height = legend_top + 18 * len(curves) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + plot_width + 30}" '
        f'height="{height}" style="{FONT}">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="8" y="20" font-weight="bold">{escape(title)}</text>',
    ]
    step = max(1, (high - low) // 8)
    for decade in range(low, high + 1, step):
        y = y_of(decade)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_width}" y2="{y:.1f}" '
            'stroke="#ddd"/>'
        )
        floor = decade == round(math.log10(GRADIENT_FLOOR))
        parts.append(_text(left - 48, y + 4, ("≤ " if floor else "") + f"1e{decade}"))
    for k in _ticks(length - 1):
        x = x_of(k)
        parts.append(_text(x, top + plot_height + 18, str(k), middle=True))
    parts.append(
        _text(left + plot_width / 2, top + plot_height + 36, "k, steps back", True)
    )
    for number, (label, values) in enumerate(logs.items()):
        colour = CELL_COLOURS.get(label.split(",")[0].split()[0], "black")
        dash = ' stroke-dasharray="6 4"' if "before" in label else ""
        points = " ".join(f"{x_of(k):.1f},{y_of(v):.1f}" for k, v in enumerate(values))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        y = legend_top + 18 * number
        parts.append(
            f'<line x1="{left}" y1="{y - 4}" x2="{left + 30}" y2="{y - 4}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        parts.append(_text(left + 38, y, label))
    parts.append("</svg>")
    return "\n".join(parts)


def _ticks(last: int) -> List[int]:
    """About five round distances from 0 to last."""
    step = max(1, round(last / 5 / 10) * 10) if last >= 20 else max(1, last // 5)
    return list(range(0, last + 1, step))
