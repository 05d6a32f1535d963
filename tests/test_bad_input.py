"""Bad input gets a clear error, or a right number, never a silently wrong
one. One test per finding of a hostile-but-fair probe of the package."""

import io
import json
import pickle
from pathlib import Path

import numpy
import pytest
import spacy
import torch
from spacy.cli.train import train
from spacy.tokens import Doc
from spacy.util import load_config
from spacy.vectors import Vectors
from typer.testing import CliRunner

from spacy_lstm.cli import app
from spacy_lstm.models.torch_wrapper import load_state_dict_safely
from spacy_lstm.training.conllu import read_conllu

ROOT = Path(__file__).parent.parent
UD = ROOT / "corpus" / "ud"
TEXT = ROOT / "corpus" / "text" / "sample.txt"


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    """A small word LM keyed by LOWER, as in the pipeline recipe."""
    output = tmp_path_factory.mktemp("lm")
    overrides = {
        "training.max_steps": 30,
        "training.eval_frequency": 30,
        "components.lstm_lm.key": "LOWER",
        "components.lstm_lm.model.width": 32,
        "components.lstm_lm.model.sampled_softmax": 0,
        "corpora.train.pretokenized": False,
        "corpora.dev.pretokenized": False,
    }
    train(ROOT / "configs" / "lm_word.cfg", output, overrides=overrides)
    return output / "model-last"


@pytest.fixture(scope="module")
def parser(tmp_path_factory):
    output = tmp_path_factory.mktemp("parser")
    overrides = {"training.max_steps": 20, "training.eval_frequency": 10}
    train(ROOT / "configs" / "parser.cfg", output, overrides=overrides)
    return output / "model-last"


def invoke(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf8")
    return path


# 1. perplexity --pretokenized keys its words as the model does
def test_pretokenized_perplexity_uses_the_models_key(lm, tmp_path):
    text = write(tmp_path / "t.txt", "Maria Works As A Cook .\n")
    tokenized = json.loads(invoke("perplexity", lm, text).output)
    pretokenized = json.loads(invoke("perplexity", lm, text, "--pretokenized").output)
    assert pretokenized == tokenized


# 2. whitespace tokens are not words
def test_whitespace_tokens_are_not_words_to_the_language_model(lm):
    nlp = spacy.load(lm)
    single, double = nlp("the cat sat on the mat"), nlp("the cat  sat on the mat")
    assert double[2].is_space and double[2]._.surprisal is None
    words = [t._.surprisal for t in double if not t.is_space]
    assert words == pytest.approx([t._.surprisal for t in single], abs=1e-4)
    assert double._.perplexity == pytest.approx(single._.perplexity, rel=1e-4)
    # a line break is the end of a line, as in the training text
    assert nlp("the cat\nsat")[2]._.surprisal is not None


def test_whitespace_tokens_are_not_parsed(parser):
    """The parser leaves whitespace out of the trees (the encoder still reads
    it) and attaches it to the token before it, as spaCy's parser does."""
    nlp = spacy.load(parser)
    doc = nlp("She saw  a girl with a telescope.\n\n")
    space, end = doc[2], doc[-1]
    assert space.is_space and space.dep_ == "dep" and space.head.i == 1
    assert end.is_space and end.dep_ == "dep" and end.head.i == len(doc) - 2
    assert space._.head_prob is None and space._.head_alternatives == []
    for token in doc:
        assert not token.head.is_space or token.head == token
        assert all(not head.is_space for head, _ in token._.head_alternatives)
    assert nlp("   ")[0].dep_ == "ROOT"


# 3. one strict CoNLL-U reader: malformed lines are errors with a line number
def test_conllu_reader_is_strict(tmp_path):
    text = (UD / "dev.conllu").read_text(encoding="utf8")
    n_sents = len(read_conllu(UD / "dev.conllu"))
    spaced = write(tmp_path / "spaced.conllu", text.replace("\n\n", "\n   \n"))
    assert len(read_conllu(spaced)) == n_sents
    lines = text.splitlines()
    bad_line = next(i for i, line in enumerate(lines) if line.startswith("3\t"))
    lines[bad_line] = lines[bad_line].replace("\t", " ")
    bad = write(tmp_path / "bad.conllu", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=f"line {bad_line + 1}: expected 10"):
        read_conllu(bad)
    reader = spacy.registry.get("readers", "spacy-lstm.Corpus.v1")(path=bad)
    with pytest.raises(ValueError, match=f"line {bad_line + 1}"):
        list(reader(spacy.blank("en")))


def test_evaluate_parser_rejects_a_malformed_file(parser, tmp_path):
    bad = write(tmp_path / "bad.conllu", "1 Hello _ _ _ _ 0 root _ _\n\n")
    result = invoke("evaluate-parser", parser, bad)
    assert result.exit_code == 1 and "line 1" in result.output


# 4. the LM's vocabulary never silently comes from spacy train's 100 examples
def test_lm_refuses_a_vocabulary_from_a_sample(tmp_path):
    config = load_config(ROOT / "configs" / "lm_word.cfg")
    config["initialize"]["components"] = {}
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    doc = nlp.make_doc("the cat sat")
    with pytest.raises(ValueError, match="first 100 examples"):
        nlp.initialize(lambda: [spacy.training.Example(doc, doc)])


# 5. settings that would train nonsense are refused
def test_lm_refuses_settings_that_train_nonsense():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="grad_clip"):
        nlp.add_pipe("lstm_lm", config={"grad_clip": -1.0})
    lm = nlp.add_pipe("lstm_lm", config={"min_freq": 1000})
    docs = [nlp.make_doc("the cat sat on the mat")]
    with pytest.raises(ValueError, match="min_freq=1000"):
        lm.initialize(lambda: [spacy.training.Example(d, d) for d in docs], nlp=nlp)


# 6. fill_blank: unknown candidates are named, not scored as <unk>
def test_fill_blank_names_unknown_candidates(lm):
    nlp = spacy.load(lm)
    component = nlp.get_pipe("lstm_lm")
    doc = nlp("She had a passion for ___ .")
    with pytest.raises(ValueError, match="zorblax"):
        component.fill_blank(doc, candidates=["cooking", "zorblax"])
    ranked = component.fill_blank(doc, candidates=["Cooking", "school"])
    assert {word for word, _ in ranked} == {"Cooking", "school"}


# 7. a component's own from_bytes keeps the vectors' LOWER key
@pytest.mark.parametrize("name", ["lstm_parser", "lstm_lm"])
def test_component_from_bytes_keeps_the_vectors_key(name):
    nlp = spacy.blank("en")
    keys = [nlp.vocab.strings.add(w) for w in ("cat", "dog")]
    data = numpy.ones((2, 4), dtype="f")
    nlp.vocab.vectors = Vectors(
        strings=nlp.vocab.strings, data=data, keys=keys, attr="LOWER"
    )
    component = nlp.add_pipe(name)
    doc = Doc(nlp.vocab, words=["The", "Cat", "sat"], sent_starts=[1, 0, 0])
    eg = spacy.training.Example.from_dict(
        doc, {"heads": [1, 1, 1], "deps": ["det", "ROOT", "dep"]}
    )
    nlp.initialize(lambda: [eg])
    component.from_bytes(component.to_bytes())
    assert nlp.vocab.vectors.attr == spacy.attrs.LOWER
    assert nlp.vocab["Cat"].has_vector


# 8. evaluate-vectors: no silent slicing, no score from nothing
def test_evaluate_vectors_arguments(word2vec_pipeline, tmp_path):
    pairs = write(tmp_path / "pairs.txt", "zzyzx qwxq 5\n")
    questions = write(tmp_path / "q.txt", ": x\ncat dog cats dogs\n")
    assert invoke("evaluate-vectors", word2vec_pipeline, "--analogies", questions,
                  "--restrict", "-1").exit_code == 2  # fmt: skip
    result = invoke("evaluate-vectors", word2vec_pipeline, "--similarity", pairs)
    assert result.exit_code == 1 and "No pair" in result.output


# 9. head alternatives never list the masked self-loop
def test_head_alternatives_of_short_sentences(parser):
    nlp = spacy.load(parser)
    for words in (["Cats"], ["Cats", "sleep"]):
        doc = Doc(nlp.vocab, words=words, sent_starts=[1] + [0] * (len(words) - 1))
        doc = nlp(doc)
        for token in doc:
            heads = [head.i for head, _ in token._.head_alternatives]
            assert len(heads) == len(set(heads)) == len(words)


# 10. a saved parser without its cfg is caught when loading
def test_missing_parser_cfg_is_caught_at_load(parser, tmp_path):
    nlp = spacy.load(parser)
    nlp.to_disk(tmp_path / "p")
    (tmp_path / "p" / "lstm_parser" / "cfg").unlink()
    with pytest.raises(ValueError, match="lstm_parser file is missing"):
        spacy.load(tmp_path / "p")


# 11. argument checks
def test_argument_checks(lm, parser):
    component = spacy.load(lm).get_pipe("lstm_lm")
    doc = component.vocab and Doc(component.vocab, words=["the", "cat"])
    for call in (
        lambda: component.suggest(doc, n=-1),
        lambda: component.fill_blank(Doc(component.vocab, words=["a", "___"]), n=-1),
        lambda: component.generate(doc, temperature=float("nan")),
        lambda: component.generate(doc, top_k=-3),
        lambda: component.generate(doc, n_tokens=-5),
    ):
        with pytest.raises(ValueError):
            call()
    everything = component.suggest(doc, n=10**6)
    assert "<unk>" not in [word for word, _ in everything]
    assert len(everything) == len(component.tokens) - 1
    result = invoke("evaluate-parser", parser, UD / "dev.conllu", "--batch-size", "0")
    assert result.exit_code == 2
    for option in (["--temperature", "nan"], ["--top-k", "-3"], ["--n-tokens", "-5"]):
        assert invoke("generate", lm, "the", *option).exit_code == 2


# 12. a line longer than spaCy's max_length
def test_perplexity_of_a_very_long_line(lm, tmp_path):
    text = write(tmp_path / "long.txt", "the cat sat on the mat . " * 42_000 + "\n")
    assert len(text.read_text(encoding="utf8")) > 1_000_000
    result = invoke("perplexity", lm, text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tokens"] == 7 * 42_000 + 1


# 13. output paths in folders that do not exist yet
def test_output_folders_are_created(word2vec_pipeline, tmp_path):
    out = tmp_path / "new" / "folder" / "vectors.txt"
    assert invoke("export-vectors", word2vec_pipeline, out).exit_code == 0
    assert out.is_file()


# 14. gold data that is not a tree is reported
def test_gold_trees_that_are_not_trees_warn(tmp_path):
    text = (UD / "dev.conllu").read_text(encoding="utf8")
    first = text.split("\n\n")[0].splitlines()
    words = [i for i, line in enumerate(first) if line[0].isdigit()]
    cols = first[words[0]].split("\t")
    cols[6] = "0"  # a second root
    first[words[0]] = "\t".join(cols)
    path = write(tmp_path / "two_roots.conllu", "\n".join(first) + "\n\n")
    with pytest.warns(UserWarning, match="1 of 1 sentences are not trees.*2 roots"):
        read_conllu(path)
    comments = write(tmp_path / "comments.conllu", "# sent_id = 1\n# text = hi\n\n")
    with pytest.raises(ValueError, match="No sentences"):
        read_conllu(comments)


# 15. weights are loaded without unpickling arbitrary objects
class _Payload:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').touch()",))


def test_crafted_weights_do_not_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.BytesIO()
    torch.save({"weight": _Payload()}, buffer)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load_state_dict_safely(
            torch.nn.Linear(2, 2), buffer.getvalue(), torch.device("cpu")
        )
    assert not (tmp_path / "PWNED").exists()


# every command on an empty, missing, binary and non-UTF-8 file
@pytest.mark.parametrize("kind", ["empty", "missing", "binary", "latin1"])
def test_commands_on_bad_files(kind, lm, parser, word2vec_pipeline, tmp_path):
    path = tmp_path / f"{kind}.txt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "latin1":
        path.write_bytes("café crème\n".encode("latin1"))
    for args in (
        ["perplexity", lm, path],
        ["evaluate-parser", parser, path],
        ["evaluate-vectors", word2vec_pipeline, "--similarity", path],
        ["evaluate-vectors", path, "--similarity", ROOT / "corpus/text/similarity.tsv"],
        ["export-vectors", path, tmp_path / "out.txt"],
    ):
        result = invoke(*args)
        assert result.exit_code in (1, 2), (args, result.output)
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), (args, result.exception)
