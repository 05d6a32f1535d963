import numpy
import pytest
import torch
from spacy.util import registry
from thinc.api import Model

from spacy_lstm.models.encoder import build_bilstm_encoder, padding_plan
from spacy_lstm.precision import has_native_bfloat16
from spacy_lstm.torch_modules.rnn import BiRNN
from spacy_lstm.util import bucket, cheapest_groups

WIDTH = 8
CELLS = ["lstm", "gru", "rnn"]


@pytest.fixture(autouse=True)
def float32(monkeypatch):
    """These tests compare the encoder with torch's float32 layers."""
    monkeypatch.setenv("SPACY_LSTM_PRECISION", "float32")


def random_docs(lengths, width=WIDTH, seed=0):
    rng = numpy.random.default_rng(seed)
    return [rng.normal(size=(n, width)).astype("float32") for n in lengths]


def birnn(model: Model) -> BiRNN:
    return model.layers[0].shims[0]._model


def torch_bidirectional_copy(module: BiRNN) -> torch.nn.RNNBase:
    """torch's own bidirectional RNN with the same weights, as a reference."""
    first = module.forward_layers[0]
    ref = (
        type(first)(
            first.input_size,
            first.hidden_size,
            num_layers=len(module.forward_layers),
            bidirectional=True,
            nonlinearity="tanh",
        )
        if isinstance(first, torch.nn.RNN)
        else type(first)(
            first.input_size,
            first.hidden_size,
            num_layers=len(module.forward_layers),
            bidirectional=True,
        )
    )
    with torch.no_grad():
        for k, (fwd, bwd) in enumerate(
            zip(module.forward_layers, module.backward_layers)
        ):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ref, f"{name}_l{k}").copy_(getattr(fwd, f"{name}_l0"))
                getattr(ref, f"{name}_l{k}_reverse").copy_(getattr(bwd, f"{name}_l0"))
    return ref


@pytest.mark.parametrize(
    "lengths",
    [[1], [3, 0, 5], [4, 4, 4], [2, 7, 1, 0, 7], [10, 1, 1, 1], [300, 2, 2, 2, 2]],
)
@pytest.mark.parametrize("buckets", [False, True])
def test_padding_plan(lengths, buckets):
    groups, forward_rows, backward_rows = padding_plan(lengths, buckets=buckets)
    n_tokens = sum(lengths)
    starts = numpy.cumsum(lengths) - numpy.asarray(lengths)
    seen = []
    offset = 0
    for steps, size, forward_index, backward_index in groups:
        grid = forward_index.reshape(steps, size)
        back = backward_index.reshape(steps, size)
        if buckets:
            assert steps == bucket(steps) and size == bucket(size)
        for b in range(size):
            tokens = grid[:, b][grid[:, b] < n_tokens]
            n = len(tokens)
            assert (grid[n:, b] == n_tokens).all()  # padding only at the end
            if not n:  # a padding sequence, to make the size a bucket's
                assert buckets and (back[:, b] == n_tokens).all()
                continue
            doc = next(i for i, s in enumerate(starts) if s == tokens[0] and lengths[i])
            assert lengths[doc] == n and list(tokens) == list(
                range(tokens[0], tokens[0] + n)
            )
            assert list(back[:n, b]) == list(reversed(tokens))
            seen.append(doc)
            for t, token in enumerate(tokens):
                assert forward_rows[token] == offset + t * size + b
                assert backward_rows[token] == offset + (n - 1 - t) * size + b
        offset += steps * size
    assert sorted(seen) == [i for i, n in enumerate(lengths) if n]
    if lengths == [4, 4, 4]:
        assert len(groups) == 1
    if not buckets:
        assert sum(s * b for s, b, _, _ in groups) >= sum(lengths)
    # One long doc does not pad 200 short ones to its length.
    lengths = [5000] + [5] * 200
    groups = padding_plan(lengths)[0]
    assert sum(steps * size for steps, size, _, _ in groups) == sum(lengths)


def test_bfloat16_plans_fewer_longer_groups():
    # a step and a pass cost more against their cells in bfloat16
    lengths = list(numpy.random.default_rng(0).integers(1, 60, size=64))
    float32 = padding_plan(lengths)[0]
    bfloat16 = padding_plan(lengths, buckets=True)[0]
    assert 1 < len(bfloat16) < len(float32)


def partitions(n):
    """Every way to cut range(n) into runs."""
    if n == 0:
        yield []
        return
    for first in range(1, n + 1):
        for rest in partitions(n - first):
            yield [first] + rest


@pytest.mark.parametrize("seed", range(30))
def test_cheapest_groups_are_the_cheapest_runs(seed):
    rng = numpy.random.default_rng(seed)
    lengths = [int(n) for n in rng.integers(0, 40, size=int(rng.integers(1, 9)))]
    step_cost, group_cost = float(rng.uniform(0, 10)), float(rng.uniform(0, 50))

    def cost(groups):
        return sum(
            max(lengths[i] for i in g) * (len(g) + step_cost) + group_cost
            for g in groups
        )

    groups = cheapest_groups(lengths, step_cost, group_cost)
    # every non-empty item once, longest first
    flat = [i for g in groups for i in g]
    assert sorted(flat) == [i for i, n in enumerate(lengths) if n]
    assert [lengths[i] for i in flat] == sorted((n for n in lengths if n), reverse=True)
    order = flat
    best = float("inf")
    for sizes in partitions(len(order)):
        cuts = numpy.cumsum([0] + sizes)
        best = min(best, cost([order[a:b] for a, b in zip(cuts, cuts[1:])]))
    assert cost(groups) == pytest.approx(best)


@pytest.mark.parametrize("cell", CELLS)
def test_shapes_and_registered_name(cell):
    build = registry.get("architectures", "spacy-lstm.BiLSTMEncoder.v1")
    model = build(width=WIDTH, depth=2, dropout=0.0, cell=cell).initialize()
    assert model.get_dim("nI") == model.get_dim("nO") == WIDTH
    module = birnn(model)
    assert len(module.forward_layers) == len(module.backward_layers) == 2
    for rnn in [*module.forward_layers, *module.backward_layers]:
        assert rnn.hidden_size == WIDTH // 2 and not rnn.bidirectional
        assert rnn.mode == {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN_TANH"}[cell]
    Xs = random_docs([3, 0, 5, 1])
    Ys = model.predict(Xs)
    assert [Y.shape for Y in Ys] == [(3, WIDTH), (0, WIDTH), (5, WIDTH), (1, WIDTH)]
    assert all(numpy.isfinite(Y).all() for Y in Ys)


@pytest.mark.parametrize("cell", CELLS)
def test_forward_and_gradient_match_unpadded_torch(cell):
    """Each doc's output and input gradient equal those of torch's own
    bidirectional RNN, with the same weights, run on that doc alone."""
    model = build_bilstm_encoder(WIDTH, depth=2, dropout=0.0, cell=cell).initialize()
    Xs = random_docs([5, 2, 9, 0, 3])
    dYs = random_docs([len(X) for X in Xs], seed=1)
    Ys, backprop = model.begin_update(Xs)
    dXs = backprop(dYs)
    rnn = torch_bidirectional_copy(birnn(model))
    for X, Y, dY, dX in zip(Xs, Ys, dYs, dXs):
        if not len(X):
            assert Y.shape == dX.shape == (0, WIDTH)
            continue
        Xt = torch.tensor(X, requires_grad=True)
        Yt, _ = rnn(Xt.unsqueeze(1))
        (Yt.squeeze(1) * torch.tensor(dY)).sum().backward()
        numpy.testing.assert_allclose(Y, Yt.squeeze(1).detach().numpy(), atol=1e-5)
        numpy.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-5)


def test_parameters_receive_gradients_and_learn():
    model = build_bilstm_encoder(WIDTH, depth=1, dropout=0.0).initialize()
    Xs = random_docs([4, 6])
    targets = random_docs([4, 6], seed=2)
    from thinc.api import Adam

    optimizer = Adam(0.01)
    losses = []
    for _ in range(30):
        Ys, backprop = model.begin_update(Xs)
        losses.append(sum(float(((Y - T) ** 2).sum()) for Y, T in zip(Ys, targets)))
        backprop([Y - T for Y, T in zip(Ys, targets)])
        model.finish_update(optimizer)
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.parametrize("cell", CELLS)
def test_no_padding_leak(cell):
    """A doc's vectors do not depend on the docs batched with it."""
    model = build_bilstm_encoder(WIDTH, depth=2, dropout=0.0, cell=cell).initialize()
    short, long1, long2 = random_docs([3, 20, 11])
    alone = model.predict([short])[0]
    batched = model.predict([long1, short, long2])[1]
    numpy.testing.assert_allclose(alone, batched, atol=1e-5)


@pytest.mark.skipif(
    not has_native_bfloat16(torch.device("cpu")),
    reason="this CPU does not compute bfloat16 natively (no AVX512-BF16 or AMX)",
)
def test_no_padding_leak_in_bfloat16(monkeypatch):
    monkeypatch.setenv("SPACY_LSTM_PRECISION", "bfloat16")
    model = build_bilstm_encoder(WIDTH, depth=2, dropout=0.0).initialize()
    short, long1, long2 = random_docs([3, 20, 11])
    alone = model.predict([short])[0]
    batched = model.predict([long1, short, long2])[1]
    assert alone.dtype == "float32"
    numpy.testing.assert_allclose(alone, batched, atol=1e-2)
    monkeypatch.setenv("SPACY_LSTM_PRECISION", "float32")
    numpy.testing.assert_allclose(alone, model.predict([short])[0], atol=0.05)


def test_bucket():
    sizes = [bucket(n) for n in range(1, 1025)]
    assert sizes[:9] == [1, 2, 3, 4, 5, 6, 7, 8, 10]
    assert all(n <= b < 1.25 * n for n, b in enumerate(sizes, 1))
    assert len(set(sizes)) == 36 and bucket(1024) == 1024


def test_builtin_encoder_leaks_padding():
    """The same check catches the defect in spaCy's own BiLSTM encoder."""
    build = registry.get("architectures", "spacy.TorchBiLSTMEncoder.v1")
    model = build(width=WIDTH, depth=2, dropout=0.0).initialize()
    short, long1, long2 = random_docs([3, 20, 11])
    alone = model.predict([short])[0]
    batched = model.predict([long1, short, long2])[1]
    assert numpy.abs(alone - batched).max() > 1e-3


def test_dropout_only_in_training():
    model = build_bilstm_encoder(WIDTH, depth=3, dropout=0.5).initialize()
    Xs = random_docs([6])
    numpy.testing.assert_array_equal(model.predict(Xs)[0], model.predict(Xs)[0])
    Y1, _ = model.begin_update(Xs)
    Y2, _ = model.begin_update(Xs)
    assert not numpy.allclose(Y1[0], Y2[0])


def test_input_dropout_only_in_training():
    model = build_bilstm_encoder(WIDTH, 1, 0.0, input_dropout=0.5).initialize()
    Xs = random_docs([6])
    numpy.testing.assert_array_equal(model.predict(Xs)[0], model.predict(Xs)[0])
    assert not numpy.allclose(
        model.begin_update(Xs)[0][0], model.begin_update(Xs)[0][0]
    )


def test_word_dropout_zeroes_whole_tokens_in_training_only():
    torch.manual_seed(0)
    rnn = BiRNN(4, 3, depth=1, dropout=0.0, word_dropout=0.5)
    X = torch.ones(200, 4)
    dropped = rnn.train()._drop_words(X)
    zero_rows = (dropped == 0).all(dim=1)
    assert 60 < int(zero_rows.sum()) < 140
    assert torch.all(dropped[~zero_rows] == 2.0)  # survivors scaled by 1 / (1 - p)
    assert torch.equal(rnn.eval()._drop_words(X), X)


def test_empty_batches():
    model = build_bilstm_encoder(WIDTH, depth=1, dropout=0.0).initialize()
    assert model.predict([]) == []
    Ys, backprop = model.begin_update([numpy.zeros((0, WIDTH), dtype="f")] * 2)
    assert [Y.shape for Y in Ys] == [(0, WIDTH)] * 2
    assert [dX.shape for dX in backprop(Ys)] == [(0, WIDTH)] * 2


def test_long_doc():
    model = build_bilstm_encoder(WIDTH, depth=1, dropout=0.0).initialize()
    Ys = model.predict(random_docs([5000, 2]))
    assert Ys[0].shape == (5000, WIDTH) and numpy.isfinite(Ys[0]).all()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"width": 7}, "even"),
        ({"depth": 0}, "depth"),
        ({"dropout": 1.0}, "dropout"),
        ({"input_dropout": -0.1}, "input_dropout"),
        ({"word_dropout": 1.0}, "word_dropout"),
        ({"cell": "transformer"}, "cell"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs, message):
    settings = {"width": WIDTH, "depth": 1, "dropout": 0.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        build_bilstm_encoder(**settings)


def test_narrower_input():
    model = build_bilstm_encoder(WIDTH, depth=2, dropout=0.0, nI=3).initialize()
    assert model.get_dim("nI") == 3 and model.get_dim("nO") == WIDTH
    Ys = model.predict(random_docs([4, 2], width=3))
    assert [Y.shape for Y in Ys] == [(4, WIDTH), (2, WIDTH)]


def test_wrong_input_width_raises():
    model = build_bilstm_encoder(WIDTH, depth=1, dropout=0.0).initialize()
    with pytest.raises(ValueError, match="nI"):
        model.predict(random_docs([3], width=WIDTH + 2))


def test_serialization_round_trip():
    model = build_bilstm_encoder(WIDTH, depth=2, dropout=0.0, cell="gru").initialize()
    Xs = random_docs([4, 7])
    expected = model.predict(Xs)
    fresh = build_bilstm_encoder(WIDTH, depth=2, dropout=0.0, cell="gru")
    fresh.from_bytes(model.to_bytes())
    for Y, Z in zip(expected, fresh.predict(Xs)):
        numpy.testing.assert_array_equal(Y, Z)


def test_drop_in_for_tok2vec():
    """Works in the encode slot of spacy.Tok2Vec.v2 on real docs."""
    import spacy

    nlp = spacy.blank("en")
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=16, attrs=["NORM", "SHAPE"], rows=[100, 50], include_static_vectors=False
    )
    encode = build_bilstm_encoder(16, depth=1, dropout=0.0)
    tok2vec = registry.get("architectures", "spacy.Tok2Vec.v2")(embed, encode)
    docs = [nlp("I saw a girl with a telescope."), nlp(""), nlp("Hi")]
    tok2vec.initialize(X=docs)
    assert tok2vec.get_dim("nO") == 16
    assert [Y.shape for Y in tok2vec.predict(docs)] == [(8, 16), (0, 16), (1, 16)]


@pytest.mark.parametrize("cell", CELLS)
def test_separate_directions_see_only_their_side(cell):
    """With separate directions, the forward half of a token's vector depends
    only on it and earlier tokens, the backward half only on it and later
    ones: they match torch's unidirectional stacks run over the doc and over
    the reversed doc."""
    model = build_bilstm_encoder(
        WIDTH, depth=3, dropout=0.0, cell=cell, separate_directions=True
    ).initialize()
    module = birnn(model)
    assert module.forward_layers[1].input_size == WIDTH // 2
    (X,) = random_docs([7])
    Y = model.predict([X, *random_docs([3, 12], seed=3)])[0]
    half = WIDTH // 2
    for layers, ref_input, ref_slice in (
        (module.forward_layers, X, slice(None)),
        (module.backward_layers, X[::-1].copy(), slice(None, None, -1)),
    ):
        H = torch.tensor(ref_input).unsqueeze(1)
        with torch.no_grad():
            for rnn in layers:
                H = rnn(H)[0]
        expected = H.squeeze(1).numpy()[ref_slice]
        got = Y[:, :half] if layers is module.forward_layers else Y[:, half:]
        numpy.testing.assert_allclose(got, expected, atol=1e-5)
    # Changing the last token leaves the forward half of the others alone.
    changed = X.copy()
    changed[-1] += 1.0
    Y2 = model.predict([changed])[0]
    numpy.testing.assert_allclose(Y2[:-1, :half], Y[:-1, :half], atol=1e-6)
    assert not numpy.allclose(Y2[:-1, half:], Y[:-1, half:])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_encoder_gates_of_a_doc_match_its_vectors(cell):
    import spacy

    from spacy_lstm.models.encoder import encoder_gates

    nlp = spacy.blank("en")
    embed = registry.get("architectures", "spacy.MultiHashEmbed.v2")(
        width=16, attrs=["NORM", "SHAPE"], rows=[100, 50], include_static_vectors=False
    )
    encode = build_bilstm_encoder(16, depth=2, dropout=0.0, cell=cell)
    tok2vec = registry.get("architectures", "spacy.Tok2Vec.v2")(embed, encode)
    doc = nlp("I saw a girl with a telescope.")
    tok2vec.initialize(X=[doc])
    gates = encoder_gates(tok2vec, doc)
    assert gates["cell"] == cell and gates["tokens"][3] == "girl"
    last = gates["layers"][-1]
    vectors = numpy.hstack([last["forward"]["hidden"], last["backward"]["hidden"]])
    numpy.testing.assert_allclose(vectors, tok2vec.predict([doc])[0], atol=1e-5)
    if cell == "lstm":
        assert last["backward"]["forget"].shape == (8, 8)
    with pytest.raises(ValueError, match="No spacy-lstm.BiLSTMEncoder.v1"):
        encoder_gates(embed, doc)
