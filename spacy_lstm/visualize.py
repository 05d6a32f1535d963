"""Pictures of what a language model does, as self-contained SVG (no plotting
library): the tokens in a row, their surprisal, and for each recurrent layer
the mean activation of each gate at each token, as a heatmap."""

from html import escape
from typing import Dict, List, Tuple

# The gates shown per cell, in the order of the rows.
SHOWN_GATES = {"lstm": ("forget", "input", "output"), "gru": ("update", "reset")}
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
    shown = SHOWN_GATES.get(gates["cell"], ())
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
