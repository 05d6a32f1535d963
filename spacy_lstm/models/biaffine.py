"""spacy-lstm.BiaffineParser.v1: a tok2vec, then biaffine arc and label scoring."""

from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple, cast

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import (
    ArgsKwargs,
    Model,
    PyTorchShim,
    torch2xp,
    xp2torch,
)
from thinc.types import Floats2d, Floats3d, Ints1d

from ..torch_modules.biaffine import (
    BiaffineScorer,
    deserialize_scorer,
    serialize_scorer,
)
from ..util import length_groups
from .torch_wrapper import TorchWrapper

# Sentences are scored in groups padded to a common length; the arc scores of
# a group take (sentences * steps ** 2) floats. A group may pad up to twice
# its real cells, or any amount up to SMALL_GROUP cells (4 MB).
MAX_PADDING = 2.0
SMALL_GROUP = 1 << 20
# At inference, the sentences of a batch are scored in runs of about this many
# tokens (see score_in_chunks).
SCORE_CHUNK = 8192


class ParserInput(NamedTuple):
    """docs: the docs to parse.
    sent_lengths: the length of every sentence of every doc, in order; they
        cover every parsed token.
    heads: for each parsed token, the sentence position of the head whose
        label to score (0 for ROOT); None to decode trees from the arc scores.
    parsed: the tokens to parse, as indices into the docs' tokens laid end to
        end (whitespace tokens left out, say); None for every token. The
        encoder still reads every token.
    """

    docs: List[Doc]
    sent_lengths: List[int]
    heads: Optional[Ints1d] = None
    parsed: Optional[Ints1d] = None


class ParserOutput(NamedTuple):
    """arcs: arc logits [sentence, dependent, head] per group of sentences,
        position 0 being ROOT.
    groups: the sentence numbers in each group, in the order of its rows.
    labels: label logits per token.
    heads: the head (sentence position, 0 for ROOT) per token that the labels
        were scored for.
    """

    arcs: List[Floats3d]
    groups: List[List[int]]
    labels: Floats2d
    heads: Ints1d


@registry.architectures("spacy-lstm.BiaffineParser.v1")
def build_biaffine_parser(
    tok2vec: Model[List[Doc], List[Floats2d]],
    arc_width: int = 256,
    label_width: int = 128,
    dropout: float = 0.33,
    nO: Optional[int] = None,
) -> Model[ParserInput, ParserOutput]:
    """A graph-based dependency parser model (Dozat & Manning 2017): token
    vectors from `tok2vec`, then separate head and dependent MLPs, a biaffine
    product over all (dependent, head) pairs of a sentence, and a label
    classifier on (dependent, head) pairs.

    tok2vec (Model[List[Doc], List[Floats2d]]): The token encoder, e.g.
        spacy.Tok2Vec.v2 with spacy-lstm.BiLSTMEncoder.v1, or a listener.
    arc_width (int): Width of the arc MLPs.
    label_width (int): Width of the label MLPs.
    dropout (float): Dropout on the MLP outputs during training.
    nO (Optional[int]): The number of labels; set by the component.
    RETURNS (Model[ParserInput, ParserOutput]): The model.
    """
    for name, value in (("arc_width", arc_width), ("label_width", label_width)):
        if value < 1:
            raise ValueError(f"BiaffineParser {name} must be positive, got {value}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"BiaffineParser dropout must be in [0, 1), got {dropout}.")
    scorer = TorchWrapper(
        BiaffineScorer(tok2vec.get_dim("nO"), arc_width, label_width, nO or 1, dropout),
        convert_inputs=convert_inputs,
        convert_outputs=convert_outputs,
        # The label count is only known after initialize, so the weights are
        # saved with the module's shape and rebuilt from it on load.
        serialize_model=serialize_scorer,
        deserialize_model=deserialize_scorer,
    )
    return Model(
        "biaffine_parser",
        forward,
        init=init,
        layers=[tok2vec, scorer],
        refs={"tok2vec": tok2vec, "scorer": scorer},
        dims={"nO": nO},
    )


def init(
    model: Model[ParserInput, ParserOutput],
    X: Optional[ParserInput] = None,
    Y: Optional[ParserOutput] = None,
) -> None:
    """Size the MLPs from the tok2vec's output width and the labels."""
    model.get_ref("tok2vec").initialize(X=X.docs if X is not None else None)
    if model.has_dim("nO"):
        set_n_labels(model, model.get_dim("nO"))


def set_n_labels(
    model: Model, n_labels: int, old_positions: Optional[Sequence[int]] = None
) -> None:
    """Resize the label classifier to n_labels, if its size differs.

    old_positions (Optional[Sequence[int]]): For each new label, its position
        among the old labels, or -1 for a new one. Given, every weight is kept
        and only the new labels start untrained; not given, the whole scorer
        is reinitialised (before training).
    """
    # PyTorchShim has no public way to swap its module.
    shim = cast(PyTorchShim, model.get_ref("scorer").shims[0])
    old = shim._model
    if old.config["n_labels"] != n_labels:
        device = next(old.parameters()).device
        resized = BiaffineScorer(**{**old.config, "n_labels": n_labels}).to(device)
        if old_positions is not None:
            state = resized.state_dict()
            kept = [(new, pos) for new, pos in enumerate(old_positions) if pos >= 0]
            new_rows = torch.tensor([new for new, _ in kept], dtype=torch.long)
            old_rows = torch.tensor([pos for _, pos in kept], dtype=torch.long)
            for name, value in old.state_dict().items():
                if name == "label_weight":  # (width, labels, width)
                    state[name][:, new_rows] = value[:, old_rows]
                elif name.startswith("label_linear"):  # labels first
                    state[name][new_rows] = value[old_rows]
                else:
                    state[name] = value
            resized.load_state_dict(state)
        shim._model = resized
    model.set_dim("nO", n_labels, force=True)


def forward(
    model: Model[ParserInput, ParserOutput], inputs: ParserInput, is_train: bool
) -> Tuple[ParserOutput, Callable]:
    """Score every (dependent, head) pair of each sentence and the labels
    of the chosen (or, in training, the gold) heads."""
    docs, sent_lengths, heads, parsed = inputs
    tok2vec, scorer = model.layers
    tokvecs, backprop_tok2vec = tok2vec(docs, is_train)
    doc_lengths = [len(doc) for doc in docs]
    n_tokens = sum(doc_lengths) if parsed is None else len(parsed)
    if sum(sent_lengths) != n_tokens or min(sent_lengths, default=1) < 1:
        raise ValueError(
            f"Sentence lengths {sent_lengths} do not split the {n_tokens} tokens "
            "of the batch into non-empty sentences."
        )
    if n_tokens == 0:
        empty = ParserOutput(
            [], [], model.ops.alloc2f(0, model.get_dim("nO")), model.ops.alloc1i(0)
        )
        return empty, lambda d_out: backprop_tok2vec(tokvecs)
    all_rows = model.ops.flatten(tokvecs)
    X = all_rows if parsed is None else all_rows[parsed]
    if not is_train and n_tokens > SCORE_CHUNK:
        return score_in_chunks(model, X, sent_lengths, heads), backprop_nothing
    output, backprop_scorer = scorer((X, sent_lengths, heads), is_train)

    def backprop(d_output: Tuple[List[Floats3d], Floats2d]) -> List[Doc]:
        dX = backprop_scorer(d_output)
        if parsed is not None:
            d_parsed, dX = dX, model.ops.alloc2f(*all_rows.shape)
            dX[parsed] = d_parsed
        return backprop_tok2vec(model.ops.unflatten(dX, doc_lengths))

    return output, backprop


def score_in_chunks(
    model: Model, X: Floats2d, sent_lengths: List[int], heads: Optional[Ints1d]
) -> ParserOutput:
    """The scorer's output for runs of whole sentences of about SCORE_CHUNK
    tokens each, joined: at inference, memory then stays that of a chunk
    however long the doc (the MLPs alone keep ~3 KB per token)."""
    scorer = model.get_ref("scorer")
    xp = model.ops.xp
    arcs: List[Floats3d] = []
    groups: List[List[int]] = []
    labels, out_heads = [], []
    sent = token = 0
    while sent < len(sent_lengths):
        end, n = sent, 0
        while end < len(sent_lengths) and (
            n == 0 or n + sent_lengths[end] <= SCORE_CHUNK
        ):
            n += sent_lengths[end]
            end += 1
        part = scorer.predict(
            (
                X[token : token + n],
                sent_lengths[sent:end],
                None if heads is None else heads[token : token + n],
            )
        )
        arcs.extend(part.arcs)
        groups.extend([sent + i for i in group] for group in part.groups)
        labels.append(part.labels)
        out_heads.append(part.heads)
        sent, token = end, token + n
    return ParserOutput(arcs, groups, xp.concatenate(labels), xp.concatenate(out_heads))


def backprop_nothing(d_output):
    """The backward pass of inference-only chunked scoring: an error."""
    raise ValueError("The parser scores in chunks only at inference.")


def sentence_groups(sent_lengths: Sequence[int]) -> List[List[int]]:
    """Sentence numbers per padded group, longest first (ROOT included)."""
    lengths = numpy.asarray(sent_lengths, dtype="int64") + 1
    return length_groups(lengths, MAX_PADDING, SMALL_GROUP, power=2)


def sentence_grid(sent_lengths: Sequence[int]):
    """The padded groups that the scorer runs the sentences through.

    RETURNS: groups (sentence numbers per group), then per group the gather
        index (n_sents, steps) into [tokens; ROOT] and the head mask
        (n_sents, steps, steps); then per token its grid row, and the grid row
        of its sentence's ROOT.
    """
    L = numpy.asarray(sent_lengths, dtype="int64")
    n_tokens = int(L.sum())
    starts = numpy.cumsum(L) - L
    token_rows = numpy.empty(n_tokens, dtype="int64")
    head_rows = numpy.empty(n_tokens, dtype="int64")
    groups = sentence_groups(sent_lengths)
    tensors = []
    offset = 0
    for sents in groups:
        steps = int(L[sents[0]]) + 1
        lengths = L[sents][:, None]
        position = numpy.arange(steps)[None, :]
        is_token = (position >= 1) & (position <= lengths)
        index = numpy.where(is_token, starts[sents][:, None] + position - 1, n_tokens)
        is_head = is_token | (position == 0)
        head_mask = is_token[:, :, None] & is_head[:, None, :]
        head_mask &= ~numpy.eye(steps, dtype=bool)[None]
        rows = offset + numpy.arange(len(sents))[:, None] * steps + position
        token_ids = index[is_token]
        token_rows[token_ids] = rows[is_token]
        head_rows[token_ids] = numpy.broadcast_to(rows[:, :1], rows.shape)[is_token]
        tensors.append((index, head_mask))
        offset += len(sents) * steps
    return groups, tensors, token_rows, head_rows


def convert_inputs(
    model: Model, inputs: Tuple[Floats2d, List[int], Optional[Ints1d]], is_train: bool
) -> Tuple[ArgsKwargs, Callable[[ArgsKwargs], Floats2d]]:
    """Thinc arrays to the torch module's arguments, and the gradient back."""
    X, sent_lengths, heads = inputs
    device = cast(PyTorchShim, model.shims[0]).device
    _, tensors, token_rows, head_rows = sentence_grid(sent_lengths)

    def to_device(array) -> torch.Tensor:
        return torch.from_numpy(numpy.ascontiguousarray(array)).to(device)

    args = (
        xp2torch(X, requires_grad=is_train, device=device),
        [(to_device(index), to_device(mask)) for index, mask in tensors],
        to_device(token_rows),
        to_device(head_rows),
        None if heads is None else to_device(model.ops.to_numpy(heads).astype("int64")),
    )

    def convert_from_torch_backward(d_inputs: ArgsKwargs) -> Floats2d:
        return cast(Floats2d, torch2xp(d_inputs.args[0]))

    return ArgsKwargs(args=args, kwargs={}), convert_from_torch_backward


def convert_outputs(
    model: Model, inputs_outputs: Tuple, is_train: bool
) -> Tuple[ParserOutput, Callable]:
    """The torch module's scores to ParserOutput, and their gradient back."""
    (_, sent_lengths, _), (arcs, labels, heads) = inputs_outputs
    device = cast(PyTorchShim, model.shims[0]).device
    output = ParserOutput(
        [cast(Floats3d, torch2xp(a)) for a in arcs],
        sentence_groups(sent_lengths),
        cast(Floats2d, torch2xp(labels)),
        cast(Ints1d, torch2xp(heads)),
    )

    def convert_for_torch_backward(
        d_output: Tuple[List[Floats3d], Floats2d],
    ) -> ArgsKwargs:
        d_arcs, d_labels = d_output
        return ArgsKwargs(
            args=((*arcs, labels),),
            kwargs={
                "grad_tensors": [
                    xp2torch(d, device=device) for d in (*d_arcs, d_labels)
                ]
            },
        )

    return output, convert_for_torch_backward
