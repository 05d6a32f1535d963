"""The benchmark scripts run, on tiny settings (their numbers: docs/benchmarks.md)."""

import gzip
from pathlib import Path

import pytest
import torch

from spacy_lstm.benchmarks.encoder_speed import make_batches, synthetic_doc_lengths
from spacy_lstm.benchmarks.long_dependency import (
    Recaller,
    gradient_by_distance,
    train_and_score,
)
from spacy_lstm.benchmarks.word2vec_vs_gensim import plain_text


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_long_dependency_runs(cell):
    result = train_and_score(
        cell, gap=3, steps=5, width=8, batch_size=4, lr=0.01, seed=0
    )
    assert result["cell"] == cell and 0.0 <= result["accuracy"] <= 1.0
    assert set(result["gradient_after"]) == {"1", "2"}  # distances within gap + 1
    assert len(result["gradient_curves"]["before training"]) == 5


def test_a_vanilla_rnn_gradient_vanishes_with_distance():
    torch.manual_seed(0)
    curve = gradient_by_distance(Recaller("rnn", 16, 30, chrono=False), 30, 8, 0)
    assert len(curve) == 32 and curve[0] == pytest.approx(1.0)
    assert curve[30] < 1e-3 * curve[1]


def test_encoder_speed_batches():
    lengths = synthetic_doc_lengths(20, n_sents=2)
    batches = make_batches(lengths, batch_words=100, width=4)
    assert sum(len(X) for batch in batches for X in batch) == sum(lengths)


def test_plain_torch_lm_recipe_runs(tmp_path, monkeypatch, capsys):
    import json
    import sys

    from spacy_lstm.benchmarks import lm_plain_torch

    text = "the cat sat on the mat\nthe dog sat on the log\n" * 20
    (tmp_path / "train.txt").write_text(text, encoding="utf8")
    (tmp_path / "valid.txt").write_text("the cat sat on the log\n" * 5, encoding="utf8")
    settings = ["--width", "8", "--batch-size", "2", "--bptt", "5", "--minutes", "0.01"]
    args = ["x", str(tmp_path / "train.txt"), str(tmp_path / "valid.txt"), *settings]
    monkeypatch.setattr(sys, "argv", args)
    lm_plain_torch.main()
    result = json.loads(capsys.readouterr().out.splitlines()[0])
    assert result["epoch"] == 1 and result["valid_ppl"] > 1


def test_lm_speed_runs(tmp_path):
    import argparse

    from spacy_lstm.benchmarks.lm_speed import (
        plain_tokens_per_second,
        spacy_tokens_per_second,
    )

    path = tmp_path / "train.txt"
    path.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 40)
    args = argparse.Namespace(
        width=8, depth=1, dropout=0.0, streams=2, bptt=5, windows=3, sampled=0
    )
    assert plain_tokens_per_second(path, args) > 0
    assert spacy_tokens_per_second(path, args) > 0


def test_pipeline_speed_reads_raw_text_and_times_pipelines(tmp_path):
    import spacy

    from spacy_lstm.benchmarks.pipeline_speed import raw_texts, words_per_second

    conllu = Path(__file__).parent.parent.parent / "corpus" / "ud" / "dev.conllu"
    texts = raw_texts(conllu, sents_per_doc=3)
    assert len(texts) == 3 and all(texts)  # 8 sentences, 3 per doc
    assert words_per_second(spacy.blank("en"), texts, 1, 2) > 0
    (tmp_path / "no_text.conllu").write_text("1\ta\n", encoding="utf8")
    with pytest.raises(ValueError, match="# text"):
        raw_texts(tmp_path / "no_text.conllu", 10)


def test_lm_inference_speed_runs(tmp_path):
    import spacy

    from spacy_lstm.benchmarks.lm_speed import inference_tokens_per_second

    spacy.blank("en").to_disk(tmp_path / "blank")
    (tmp_path / "valid.txt").write_text("the cat sat\n\nthe dog\n", encoding="utf8")
    speed, perplexity = inference_tokens_per_second(
        str(tmp_path / "blank"), tmp_path / "valid.txt", precision="auto"
    )
    assert speed > 0 and perplexity is None  # no lstm_lm, no surprisal


def test_memory_benchmark_runs(tmp_path, monkeypatch, capsys):
    import json
    import sys

    import spacy

    from spacy_lstm.benchmarks import memory

    spacy.blank("en").to_disk(tmp_path / "blank")
    args = ["x", str(tmp_path / "blank"), "--doc-tokens", "50", "--perplexity-tokens"]
    monkeypatch.setattr(sys, "argv", args)
    memory.main()
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["doc"][0]["tokens"] >= 50 and result["doc"][0]["peak_mb"] > 0
    assert result["perplexity"] == []


def test_word2vec_benchmark_decompresses_a_gz_corpus(tmp_path):
    text = "the cook cooks\nthe chef cooks too\n"
    corpus = tmp_path / "text.txt.gz"
    with gzip.open(corpus, "wt", encoding="utf8") as file_:
        file_.write(text)
    plain = plain_text(corpus, tmp_path / "out")
    assert plain == tmp_path / "out" / "text.txt"
    assert plain.read_text(encoding="utf8") == text
    unchanged = tmp_path / "plain.txt"
    assert plain_text(unchanged, tmp_path / "out") == unchanged


def test_speed_ratio_is_the_median_of_the_rounds():
    from spacy_lstm.benchmarks.parse_speed import speed_ratio

    # rounds where the machine slowed down for both: 2x, 2x, then 1.5x
    assert speed_ratio([1.0, 2.0, 4.0], [2.0, 4.0, 6.0]) == 2.0


@pytest.mark.parametrize(
    "argv, message",
    [(["a_pipeline"], "--conllu is needed"), ([], "nothing to time")],
)
def test_parse_speed_says_what_is_missing(argv, message, monkeypatch, capsys):
    from spacy_lstm.benchmarks import parse_speed

    monkeypatch.setattr("sys.argv", ["parse_speed", *argv])
    with pytest.raises(SystemExit):
        parse_speed.main()
    assert message in capsys.readouterr().err


def test_padding_costs_times_each_setting_and_restores_the_costs(
    demo, monkeypatch, capsys
):
    import json

    from spacy_lstm.benchmarks import padding_costs
    from spacy_lstm.models import encoder

    before = (encoder.STEP_COST, encoder.GROUP_COST, encoder.STEP_COST_BFLOAT16)
    conllu = Path(__file__).parent.parent.parent / "corpus" / "ud" / "dev.conllu"
    argv = ["padding_costs", str(demo[0] / "pipeline"), "--conllu", str(conllu)]
    argv += ["--costs", "8,32", "1e6,1e6", "--rounds", "2", "--threads", "0"]
    monkeypatch.setattr("sys.argv", argv)
    padding_costs.main()
    result = json.loads(capsys.readouterr().out)
    assert result["speed ratio 8,32 / 8,32"] == 1.0
    assert result["parse words/s 1e+06,1e+06"] > 0
    # one group per batch changes the padding, not the parse
    if result["precision"] == "float32":
        assert result["agreement 1e+06,1e+06"]["heads_and_labels"] > 0.9
    assert (encoder.STEP_COST, encoder.GROUP_COST, encoder.STEP_COST_BFLOAT16) == before
    monkeypatch.setattr(
        "sys.argv", ["padding_costs", "p", "--conllu", "c", "--costs", "8"]
    )
    with pytest.raises(SystemExit):
        padding_costs.main()
    assert "STEP,PASS" in capsys.readouterr().err


def test_sizes_of_the_demo_pipeline(demo):
    from spacy_lstm.benchmarks.sizes import describe

    result = describe(demo[0] / "pipeline")
    components = result["components"]
    assert {"tok2vec", "lstm_parser", "lstm_lm"} <= set(components)
    assert result["parameters"] == sum(components.values()) > 1_000_000
    assert result["disk_mb"] > 1 and result["vectors"][1] == 100


def test_annotate_speed_runs_and_resumes(demo, tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    import json
    import sys

    from spacy_lstm.benchmarks import annotate_speed

    text = tmp_path / "text.txt"
    text.write_text("".join(f"Line number {i} is here.\n" for i in range(40)))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    argv = ["annotate_speed", str(demo[0] / "pipeline"), str(text), "--docs", "30"]
    argv += ["--workers", "2", "--shard-size", "5", "--kill-after", "2"]
    monkeypatch.setattr(sys, "argv", argv)
    annotate_speed.main()
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["docs"] == 30 and result["every_line_once_in_order"]
    assert result["ratio"] > 0


def conllu(sentences) -> str:
    """A CoNLL-U text of one-word sentences with these (sent_id, word)."""
    return "".join(
        f"# sent_id = {sent_id}\n# text = {word}\n"
        f"1\t{word}\t_\tX\t_\t_\t0\troot\t_\t_\n\n"
        for sent_id, word in sentences
    )


def test_ewt_genre_labels_each_sentence_by_its_id(tmp_path, monkeypatch, capsys):
    import json
    import sys

    import spacy
    from spacy.tokens import DocBin

    from spacy_lstm.benchmarks import ewt_genre

    train, dev = tmp_path / "train.conllu", tmp_path / "dev.conllu"
    train.write_text(conllu([("email-a-0001", "Hi"), ("reviews-b-0001", "Great")]))
    dev.write_text(conllu([("reviews-c-0001", "Bad"), ("weblog-d-0001", "Today")]))
    out = tmp_path / "genre"
    monkeypatch.setattr(sys, "argv", ["ewt_genre", str(train), str(dev), str(out)])
    ewt_genre.main()
    counts = json.loads(capsys.readouterr().out)
    assert counts["train"] == {"email": 1, "reviews": 1}
    assert counts["only_in_dev"] == ["weblog"]
    docs = list(DocBin().from_disk(out / "dev.spacy").get_docs(spacy.blank("en").vocab))
    assert [d.text for d in docs] == ["Bad", "Today"]
    assert docs[0].cats == {"email": 0.0, "reviews": 1.0, "weblog": 0.0}
    # a sentence without a genre in its id is an error that names the line
    train.write_text(conllu([("7", "Hi")]))
    with pytest.raises(SystemExit, match="line 4.*sent_id"):
        ewt_genre.main()


def test_every_pipeline_gets_the_same_cores():
    from spacy_lstm.benchmarks.parse_speed import settings

    # one core each by default, whatever the machine has
    assert settings(True, 16, False) == settings(False, 16, False) == [(1, 1)]
    # all cores: spaCy's CNN through processes (or one, if faster), ours
    # through threads or processes
    assert settings(False, 4, True) == [(1, 4), (1, 1)]
    assert settings(True, 4, True) == [(4, 1), (1, 4)]
    assert settings(True, 1, True) == [(1, 1)]
    # --threads gives ours more threads, never spaCy's CNN
    assert settings(True, 2, False, threads=2) == [(2, 1)]
    assert settings(False, 2, False, threads=2) == [(1, 1)]


@pytest.mark.parametrize("all_cores", [False, True])
def test_parse_speed_says_the_threads_of_every_pipeline(
    demo, all_cores, tmp_path, monkeypatch, capsys
):
    import json

    import spacy
    import torch

    from spacy_lstm.benchmarks import parse_speed

    cnn = spacy.blank("en")  # an untrained spaCy CNN parser stands for the anchor
    cnn.add_pipe("parser").add_label("dep")
    cnn.initialize()
    cnn.to_disk(tmp_path / "blank")
    conllu = Path(__file__).parent.parent.parent / "corpus" / "ud" / "dev.conllu"
    ours = str(demo[0] / "pipeline")
    argv = [ours, str(tmp_path / "blank"), "--conllu", str(conllu), "--rounds", "1"]
    monkeypatch.setattr(
        "sys.argv", ["parse_speed", *argv] + ["--all-cores"] * all_cores
    )
    monkeypatch.setattr(parse_speed.os, "cpu_count", lambda: 2)
    threads = torch.get_num_threads()
    try:
        parse_speed.main()
    finally:
        torch.set_num_threads(threads)
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    ran = {k: v for k, v in result.items() if k.startswith("threads / processes")}
    ours_settings = [v for k, v in ran.items() if ours in k]
    assert ours_settings and len(ran) == len(ours_settings) + 1
    if all_cores:
        assert result["cores"] == "all"
        assert ran[f"threads / processes {tmp_path / 'blank'}"] in ([1, 2], [1, 1])
        assert all(v in ([2, 1], [1, 2]) for v in ours_settings)
    else:
        assert result["cores"] == 1
        assert all(v == [1, 1] for v in ran.values())
