"""The wheel carries the package whole, and configs/ and corpus/ exactly as
they are in the repository (as spacy_lstm/configs and spacy_lstm/corpus)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    output = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--no-build-isolation", "--wheel-dir", str(output), str(ROOT)],
        check=True, cwd=output,
    )  # fmt: skip
    (path,) = output.glob("spacy_lstm-*.whl")
    return zipfile.ZipFile(path)


def repository_files(folder: str):
    return {
        path.relative_to(ROOT / folder).as_posix(): path.read_bytes()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("folder", ["configs", "corpus"])
def test_wheel_carries_the_folder_unchanged(wheel, folder):
    prefix = f"spacy_lstm/{folder}/"
    carried = {
        name[len(prefix) :]: wheel.read(name)
        for name in wheel.namelist()
        if name.startswith(prefix)
    }
    assert carried == repository_files(folder)


def test_wheel_carries_every_module(wheel):
    modules = {
        f"spacy_lstm/{name}"
        for name in repository_files("spacy_lstm")
        if name.endswith(".py")
    }
    assert modules <= set(wheel.namelist())
