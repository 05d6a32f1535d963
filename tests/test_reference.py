"""docs/reference.md names everything the package registers, every setting and
every command-line option, so that it cannot fall behind the code."""

import inspect
import re
from pathlib import Path

import pytest
import spacy
import tomllib
import typer.main
from spacy.language import Language

from spacy_lstm.cli import app
from spacy_lstm.extensions import _INSTALLED
from spacy_lstm.shipped import config_names

ROOT = Path(__file__).parent.parent
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf8")
GROUPS = (
    "spacy_factories",
    "spacy_architectures",
    "spacy_readers",
    "spacy_callbacks",
    "spacy_loggers",
    "spacy_scorers",
    "spacy_tokenizers",
    "spacy_cli",
)


def entry_points(group: str) -> dict:
    """The package's own entry points, read from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["entry-points"].get(group, {})


def section(title: str) -> str:
    """The text under the heading `### `title``, up to the next heading."""
    match = re.search(
        rf"^### `{re.escape(title)}[^`]*`\n(.*?)(?=^##)",
        REFERENCE + "\n##",
        re.M | re.S,
    )
    assert match, f"docs/reference.md has no section for {title}"
    return match.group(1)


def names_in(text: str) -> set:
    """The `code` spans of the text, outside code blocks."""
    return set(re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S)))


@pytest.mark.parametrize("group", GROUPS)
def test_every_registered_name_is_documented(group):
    for name in entry_points(group):
        assert f"`{name}`" in REFERENCE, f"{group} {name}"


def registered_functions():
    for group in GROUPS[1:-1]:
        for name, target in entry_points(group).items():
            module, attr = target.split(":")
            yield name, getattr(__import__(module, fromlist=[attr]), attr)


@pytest.mark.parametrize("name,function", list(registered_functions()))
def test_every_argument_is_documented(name, function):
    documented = names_in(section(name))
    for parameter in inspect.signature(function).parameters:
        assert parameter in documented, f"{name}: {parameter}"


@pytest.mark.parametrize("factory", list(entry_points("spacy_factories")))
def test_every_factory_setting_is_documented(factory):
    documented = names_in(section(factory))
    for setting in Language.get_factory_meta(factory).default_config:
        assert setting in documented, f"{factory}: {setting}"


def test_every_command_and_option_is_documented():
    click_app = typer.main.get_command(app)
    assert click_app.commands
    for name, command in click_app.commands.items():
        text = section(name)
        for parameter in command.params:
            for option in parameter.opts + parameter.secondary_opts:
                if option.startswith("-"):
                    assert f"`{option}`" in text, f"{name}: {option}"


def test_every_extension_is_documented():
    nlp = spacy.blank("en")
    for factory in entry_points("spacy_factories"):
        nlp.add_pipe(factory)  # creating a component installs its extensions
    assert len(_INSTALLED) == 12
    for cls, name in _INSTALLED:
        assert f"`{cls}._.{name}`" in REFERENCE


def test_every_shipped_config_is_documented():
    shipped = REFERENCE.split("## Shipped configs")[1]
    for name in config_names():
        assert f"| `{name}` |" in shipped
