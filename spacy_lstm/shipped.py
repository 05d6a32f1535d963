"""The configs and the small corpus that ship with the package.

In the repository they live at the top level (configs/, corpus/); the wheel
carries the same files as spacy_lstm/configs and spacy_lstm/corpus (see
pyproject.toml), so the demo and `init-config` work from an installed package.
"""

from pathlib import Path
from typing import List

PACKAGE = Path(__file__).parent


def _shipped(name: str) -> Path:
    installed = PACKAGE / name  # a wheel install
    if installed.is_dir():
        return installed
    return PACKAGE.parent / name  # the repository: a checkout or editable install


def configs_dir() -> Path:
    """RETURNS (Path): The folder of the shipped configs."""
    return _shipped("configs")


def corpus_dir() -> Path:
    """RETURNS (Path): The folder of the shipped small corpus."""
    return _shipped("corpus")


def config_names() -> List[str]:
    """RETURNS (List[str]): The shipped configs' names, without ".cfg"."""
    return sorted(path.stem for path in configs_dir().glob("*.cfg"))


def config_path(name: str) -> Path:
    """The shipped config of that name ("parser" or "parser.cfg").

    RETURNS (Path): Its path.
    """
    stem = name[: -len(".cfg")] if name.endswith(".cfg") else name
    if stem not in config_names():
        raise ValueError(
            f"No shipped config named {name!r}. The configs are: "
            + ", ".join(config_names())
        )
    return configs_dir() / f"{stem}.cfg"
