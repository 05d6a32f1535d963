from xml.etree import ElementTree

import numpy
import pytest

from spacy_lstm.visualize import GRADIENT_FLOOR, gates_svg, gradient_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_gradient_svg_draws_one_line_per_curve_on_a_log_scale():
    curves = {
        "rnn, before training": [1.0, 0.1, 0.01, 0.0],  # underflows to 0
        "lstm, after training": [1.0, 0.9, 0.8, 0.7],
    }
    root = ElementTree.fromstring(gradient_svg(curves, title="<gap 3>"))
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    assert lines[0].get("stroke-dasharray") and not lines[1].get("stroke-dasharray")
    labels = [t.text for t in root.findall(f"{SVG}text")]
    assert "<gap 3>" in labels and "rnn, before training" in labels
    assert f"≤ 1e{round(numpy.log10(GRADIENT_FLOOR))}" in labels  # the floor
    ys = [float(p.split(",")[1]) for p in lines[0].get("points").split()]
    assert ys == sorted(ys)  # falling values go down the picture
    with pytest.raises(ValueError, match="No gradient curves"):
        gradient_svg({})


def test_gates_svg_says_a_vanilla_rnn_has_no_gates():
    gates = {
        "units": ["a", "b"],
        "surprisal": numpy.array([1.0, 2.0]),
        "cell": "rnn",
        "layers": [{"hidden": numpy.zeros((2, 4))}],
    }
    root = ElementTree.fromstring(gates_svg(gates))
    assert "a rnn cell has no gates" in [t.text for t in root.findall(f"{SVG}text")]
