"""project.yml: the real-data recipes as a spaCy (weasel) project."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from weasel.util import load_project_config

ROOT = Path(__file__).parent.parent

# The parser workflow on the small data in corpus/, sized to run in seconds:
# what a user does with their own CoNLL-U and text files.
ON_CORPUS = {
    "treebank_train": "corpus/ud/train.conllu",
    "treebank_dev": "corpus/ud/dev.conllu",
    "treebank_test": "corpus/ud/dev.conllu",
    "raw_text": "corpus/text/sample.txt",
    "raw_text_pretokenized": "false",
    "similarity": "corpus/text/similarity.tsv",
    "word2vec_min_count": "2",
    "parser_max_steps": "30",
    "ud_max_steps": "20",
    "textcat_max_steps": "10",
}


def test_project_file_is_valid_and_names_every_file_once():
    project = load_project_config(ROOT)
    commands = {command["name"]: command for command in project["commands"]}
    for steps in project["workflows"].values():
        assert set(steps) <= set(commands)
    # thinc's interpolation joins two "${vars...}" list items that stand side
    # by side into one string, which weasel would then look for as one file
    for command in commands.values():
        for path in command.get("deps", []) + command.get("outputs", []):
            assert ", " not in path, (command["name"], path)
    for asset in project["assets"]:
        assert ", " not in asset["dest"]


def test_every_config_a_command_reads_exists():
    project = load_project_config(ROOT)
    for command in project["commands"]:
        for line in command["script"]:
            for word in line.split():
                if word.startswith("configs/"):
                    assert (ROOT / word).exists(), (command["name"], word)


def results_table(document: str) -> list:
    """The rows of the document's first table that has a `spacy project run` column."""
    text = (ROOT / document).read_text(encoding="utf8")
    table = next(t for t in text.split("\n\n") if "| `spacy project run` |" in t)
    return table.strip().splitlines()[2:]


@pytest.mark.parametrize("document", ["README.md", "docs/benchmarks.md"])
def test_the_results_tables_name_a_workflow_or_command_for_every_number(document):
    project = load_project_config(ROOT)
    names = set(project["workflows"]) | {c["name"] for c in project["commands"]}
    rows = results_table(document)
    assert len(rows) >= 10
    for row in rows:
        made_by = re.findall(r"`([^`]+)`", row.rstrip(" |").rsplit("|", 1)[1])
        assert made_by and set(made_by) <= names, row


def copy_project(target: Path) -> None:
    """project.yml with the configs and the small data it runs on."""
    for name in ("project.yml", "configs", "corpus"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy(source, target / name)


def run_workflow(project_dir: Path, workflow: str) -> str:
    overrides = [arg for k, v in ON_CORPUS.items() for arg in (f"--vars.{k}", v)]
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", workflow, str(project_dir)]
        + overrides,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_parser_workflow_runs_on_the_small_corpus_and_skips_finished_stages(
    tmp_path,
):
    copy_project(tmp_path)
    run_workflow(tmp_path, "parser")
    scores = json.loads((tmp_path / "training/parser/dev_scores.json").read_text())
    assert scores["sentences"] == 8
    assert set(scores["conll2018"]) == {"uas", "las"}
    assert (tmp_path / "training/parser/dev_predictions.conllu").exists()
    again = run_workflow(tmp_path, "parser")
    for stage in ("word2vec", "pretrain-bilm", "train-parser", "evaluate-parser"):
        assert f"Skipping '{stage}': nothing changed" in again
    # the held-out score, once the model is finished
    run_workflow(tmp_path, "evaluate-parser-test")
    test_scores = json.loads(
        (tmp_path / "training/parser/test_scores.json").read_text()
    )
    assert test_scores["conll2018"] == scores["conll2018"]  # here the same file


def test_every_workflow_starts_on_the_small_corpus(tmp_path):
    """The first commands of every workflow, with the variables pointing at
    corpus/ (the rest of the parser workflow runs above)."""
    copy_project(tmp_path)
    # train-lm-word reads 20 streams of 35 tokens: the sample, repeated
    sample = (ROOT / "corpus/text/sample.txt").read_text(encoding="utf8")
    (tmp_path / "corpus/text/long.txt").write_text(sample * 4, encoding="utf8")
    on_corpus = {
        **ON_CORPUS,
        "wiki_text": "corpus/text/sample.txt",
        "lm_train": "corpus/text/long.txt",
        "lm_dev": "corpus/text/long.txt",
        "lm_word_max_steps": "3",
    }
    overrides = [arg for k, v in on_corpus.items() for arg in (f"--vars.{k}", v)]
    workflows = load_project_config(ROOT)["workflows"]
    first = dict.fromkeys(
        command
        for steps in workflows.values()
        for command in steps[:2]
        if command != "demo"  # tests/test_demo_pipeline.py runs it
    )
    for command in first:
        result = subprocess.run(
            [sys.executable, "-m", "spacy", "project", "run", command, str(tmp_path)]
            + overrides,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, (
            command,
            result.stdout[-2000:],
            result.stderr[-2000:],
        )


def test_without_the_wikipedia_text_the_workflow_says_what_to_do(tmp_path):
    shutil.copy(ROOT / "project.yml", tmp_path / "project.yml")
    result = subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", "parser", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "python -m spacy project assets" in result.stdout + result.stderr
