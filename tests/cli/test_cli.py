"""What every command shares: init-config, one-line errors, spaCy's CLI."""

import subprocess
import sys

import pytest
from spacy.util import load_config
from typer.testing import CliRunner

from spacy_lstm.cli import app
from spacy_lstm.shipped import config_names, configs_dir


@pytest.mark.parametrize("name", config_names())
def test_init_config_blanks_the_paths_only(name, tmp_path):
    output = tmp_path / "new" / "my.cfg"
    result = CliRunner().invoke(app, ["init-config", name, str(output)])
    assert result.exit_code == 0, result.output
    written = load_config(output, interpolate=False)
    shipped = load_config(configs_dir() / f"{name}.cfg", interpolate=False)
    assert set(written["paths"]) == set(shipped["paths"])
    assert all(value is None for value in written["paths"].values())
    written.pop("paths"), shipped.pop("paths")
    assert written == shipped
    # the comments are kept
    comments = [line for line in (configs_dir() / f"{name}.cfg").read_text(
        encoding="utf8").splitlines() if line.startswith("#")]  # fmt: skip
    assert set(comments) <= set(output.read_text(encoding="utf8").splitlines())


def test_init_config_to_stdout_and_unknown_names(tmp_path):
    result = CliRunner().invoke(app, ["init-config", "word2vec.cfg", "-"])
    assert result.exit_code == 0 and result.output.startswith("[paths]")
    result = CliRunner().invoke(app, ["init-config", "nope", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "No shipped config named 'nope'" in result.output
    assert "Traceback" not in result.output


def test_errors_are_one_line_and_the_traceback_on_request(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("hello\n", encoding="utf8")
    command = [sys.executable, "-m", "spacy_lstm", "perplexity", str(tmp_path / "none"),
               str(text)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "E050" in result.stderr
    env = {"SPACY_LSTM_TRACEBACK": "1", "PATH": ""}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_commands_run_under_spacys_cli():
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "lstm", "init-config", "parser", "-"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("[paths]")


def test_an_extension_of_another_package_is_not_overwritten():
    script = (
        "from spacy.tokens import Token\n"
        "import spacy\n"
        "Token.set_extension('surprisal', default=0.5)\n"
        "try:\n"
        "    spacy.blank('en').add_pipe('lstm_lm')\n"
        "except ValueError as err:\n"
        "    print(err)\n"
        "print(Token.get_extension('surprisal')[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Token._.surprisal is already defined" in result.stdout
    assert result.stdout.splitlines()[-1] == "0.5"
