"""spacy-lstm.BiLSTMEncoder.v1: a bidirectional RNN encoder for spacy.Tok2Vec.v2."""

from typing import Callable, Dict, List, Optional, Sequence, Tuple, cast

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
from thinc.types import Floats2d, Ints1d

from ..torch_modules.gates import birnn_gate_activations
from ..torch_modules.rnn import CELLS, BiRNN
from ..util import bucket, cheapest_groups
from .torch_wrapper import InPlaceUpdateShim, TorchWrapper

InT = List[Floats2d]
OutT = List[Floats2d]


@registry.architectures("spacy-lstm.BiLSTMEncoder.v1")
def build_bilstm_encoder(
    width: int,
    depth: int,
    dropout: float,
    cell: str = "lstm",
    nI: Optional[int] = None,
    input_dropout: float = 0.0,
    separate_directions: bool = False,
    word_dropout: float = 0.0,
) -> Model[InT, OutT]:
    """Encode context with a stack of bidirectional recurrent layers. A drop-in
    replacement for spacy.TorchBiLSTMEncoder.v1 in the `encode` slot of
    spacy.Tok2Vec.v2 that gives each doc the same vectors whatever it is
    batched with.

    spaCy's encoder pads the batch and runs torch's bidirectional LSTM over the
    padding, so the backward direction of a short doc starts on padding and
    its vectors change with the longest doc in the batch. Here the docs are
    concatenated (Thinc's `ops.flatten`), and each layer runs two
    unidirectional `torch.nn.LSTM`/`GRU`/`RNN` passes over right-padded
    batches gathered with `index_select`: forward over the docs, backward over
    each doc reversed within its own length. Padding only ever follows real
    tokens, so it cannot change them, and the batch stays on torch's fast
    oneDNN (CPU) and cuDNN (GPU) kernels, which a `PackedSequence` leaves on
    CPU (see `BiRNN`). Thinc's PyTorch wrapper (`TorchWrapper`) carries the
    parameters, the device and the serialization.

    width (int): The output width, and the input width unless nI is given.
        Each direction has width / 2 units and their outputs are concatenated,
        so width must be even.
    depth (int): The number of recurrent layers.
    dropout (float): Dropout on the outputs of every layer but the last, during
        training, as in spacy.TorchBiLSTMEncoder.v1.
    cell (str): "lstm", "gru" or "rnn" (a vanilla tanh RNN, to compare with
        the gated cells).
    nI (Optional[int]): The input width, if it differs from `width`. A
        narrower embedding (e.g. MultiHashEmbed with a smaller width) saves
        most of the embedding layer's cost, which grows with its width squared.
    input_dropout (float): Dropout on the input vectors during training.
        spaCy's MultiHashEmbed only drops whole embedding dimensions for the
        batch, at the rate of [training] dropout.
    separate_directions (bool): Let each direction's layers read only that
        direction's previous layer, as in ELMo's biLM, instead of both. The
        first width / 2 outputs of a token then depend on it and the tokens
        before it only, and the last width / 2 on it and the tokens after it,
        so a forward and a backward language-model objective can pretrain the
        whole stack (spacy-lstm.PretrainBiLM.v1). Upper layers read half as
        many inputs, which makes it a little faster.
    word_dropout (float): The share of tokens whose whole input vector is
        zeroed during training, so that the encoder learns to read a word from
        its context, as it must for unseen words.
    RETURNS (Model[List[Floats2d], List[Floats2d]]): The encoder.
    """
    if width < 2 or width % 2:
        raise ValueError(
            f"BiLSTMEncoder width must be a positive even number, got {width}."
        )
    if depth < 1:
        raise ValueError(f"BiLSTMEncoder depth must be at least 1, got {depth}.")
    rates = (
        ("dropout", dropout),
        ("input_dropout", input_dropout),
        ("word_dropout", word_dropout),
    )
    for name, rate in rates:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"BiLSTMEncoder {name} must be in [0, 1), got {rate}.")
    if cell not in CELLS:
        raise ValueError(
            f"BiLSTMEncoder cell must be one of {sorted(CELLS)}, got {cell!r}."
        )
    nI = width if nI is None else nI
    if nI < 1:
        raise ValueError(f"BiLSTMEncoder nI must be positive, got {nI}.")
    rnn = TorchWrapper(
        BiRNN(
            nI,
            width // 2,
            depth,
            dropout,
            cell,
            input_dropout=input_dropout,
            separate_directions=separate_directions,
            word_dropout=word_dropout,
        ),
        convert_inputs=convert_inputs,
        convert_outputs=convert_outputs,
    )
    return Model(
        "bilstm_encoder",
        forward,
        layers=[rnn],
        dims={"nI": nI, "nO": width},
        attrs={
            "cell": cell,
            "depth": depth,
            "separate_directions": separate_directions,
        },
    )


def forward(model: Model[InT, OutT], Xs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    """Encode the docs' vectors as one flat batch and split the output back
    per doc."""
    nI = model.get_dim("nI")
    lengths = [len(X) for X in Xs]
    for X in Xs:
        if X.ndim != 2 or X.shape[1] != nI:
            raise ValueError(
                f"BiLSTMEncoder expects arrays of shape (n_tokens, {nI}), got "
                f"{X.shape}. Set the embedding width to the encoder's nI (by "
                "default its width)."
            )
    if sum(lengths) == 0:
        # No tokens, no padded groups: skip torch altogether.
        Ys = [model.ops.alloc2f(0, model.get_dim("nO")) for _ in Xs]
        return Ys, lambda dYs: [model.ops.alloc2f(0, nI) for _ in dYs]
    Y, backprop_rnn = model.layers[0]((model.ops.flatten(Xs), lengths), is_train)

    def backprop(dYs: OutT) -> InT:
        dX = backprop_rnn(model.ops.flatten(dYs))
        return cast(InT, model.ops.unflatten(dX, lengths))

    return cast(OutT, model.ops.unflatten(Y, lengths)), backprop


def encoder_gates(model: Model, doc: Doc) -> Dict:
    """What the BiLSTM encoder inside `model` does at each token of the doc:
    per layer, the forward and the backward direction's activations,
    recomputed step by step from the encoder's weights as
    LanguageModel.gates does (an LSTM's input, forget and output gates,
    candidate, cell and hidden state; a GRU's reset and update gates,
    candidate and hidden state; a vanilla RNN's hidden state).

    model (Model): A model that contains a spacy-lstm.BiLSTMEncoder.v1 and
        reads docs: a tok2vec component's model (nlp.get_pipe("tok2vec").model).
    RETURNS (Dict): {"tokens": the token texts, "cell": "lstm", "layers":
        [{"forward": {name: numpy.ndarray (n_tokens, width / 2)}, "backward":
        {...}}]}.
    """
    encoders = [node for node in model.walk() if node.name == "bilstm_encoder"]
    if not encoders:
        raise ValueError(
            f"No spacy-lstm.BiLSTMEncoder.v1 in the model {model.name!r}. A "
            "component that listens to a tok2vec component has none of its own: "
            'pass nlp.get_pipe("tok2vec").model instead.'
        )
    encoder = encoders[0]
    # Thinc has no forward hooks: wrap the encoder's forward function for one
    # call to catch the vectors it reads, whatever layers come before it.
    seen: List[InT] = []
    encoder_forward = encoder._func

    def catch_inputs(node: Model, Xs: InT, is_train: bool):
        seen.append(Xs)
        return encoder_forward(node, Xs, is_train)

    encoder._func = catch_inputs
    try:
        model.predict([doc])
    finally:
        encoder._func = encoder_forward
    if len(seen) != 1 or len(seen[0]) != 1 or len(seen[0][0]) != len(doc):
        raise ValueError(
            "The encoder reads this doc in several pieces (windows of a long "
            "doc): ask for the gates of a shorter doc, such as one sentence."
        )
    birnn = cast(PyTorchShim, encoder.layers[0].shims[0])._model
    birnn.eval()
    with torch.no_grad():
        layers = birnn_gate_activations(birnn, xp2torch(seen[0][0]).float())
    return {
        "tokens": [token.text for token in doc],
        "cell": encoder.attrs["cell"],
        "layers": [
            {
                direction: {name: values.cpu().numpy() for name, values in acts.items()}
                for direction, acts in layer.items()
            }
            for layer in layers
        ],
    }


# What a step and another pass cost beyond their cells, in padded cells (see
# util.cheapest_groups). Measured on the 64 one-sentence docs of an EWT dev
# batch (torch 2.13, 2 threads): padding all to the longest, as the earlier
# rule did, made 3.5 cells per token and took 1.6x the time of the cheapest
# split's 1.4; any costs from (4, 16) to (16, 512) gave within 10% of it.
STEP_COST = 8.0
GROUP_COST = 32.0
# In bfloat16 a step and a pass weigh more against their cells, which AMX
# computes fast: fewer, longer groups. Parsing EWT dev on an AMX CPU with a
# trained parser_efficiency.cfg model and a 1,200-step parser_vectors.cfg
# stand-in (benchmarks.padding_costs, 8 rounds): (16, 256) 1.05x and 1.06x
# the speed of (8, 32), the same heads; (16, 128) and (32, 512) 1.04-1.07x.
STEP_COST_BFLOAT16 = 16.0
GROUP_COST_BFLOAT16 = 256.0


def padding_plan(
    lengths: Sequence[int], buckets: bool = False
) -> Tuple[List[Tuple], Ints1d, Ints1d]:
    """Plan the right-padded groups that BiRNN runs a batch through.

    lengths (Sequence[int]): The sequence lengths, in batch order.
    buckets (bool): For bfloat16 inference: the bfloat16 costs of a step and
        a pass, and each group's steps and size padded further, to
        util.bucket's sizes, so that the same shapes recur from batch to
        batch: oneDNN builds a kernel for each new shape (parsing new text
        with a stand-in of the recommended parser, 15,500 words/s without
        buckets, 20,900 with them; float32 15,200 and 15,600).
    RETURNS (Tuple[List[Tuple], Ints1d, Ints1d]): The groups, each (steps,
        size, forward gather index, backward gather index), where index
        n_tokens stands for padding; then, for each token, its row in the
        concatenated forward outputs and in the backward outputs.
    """
    L = numpy.asarray(lengths, dtype="int64")
    n_tokens = int(L.sum())
    starts = numpy.cumsum(L) - L
    # a length-0 sequence after the last, for the padding sequences
    Lx, starts_x = numpy.append(L, 0), numpy.append(starts, n_tokens)
    forward_rows = numpy.empty(n_tokens, dtype="int64")
    backward_rows = numpy.empty(n_tokens, dtype="int64")
    groups: List[Tuple] = []
    offset = 0
    costs = (
        (STEP_COST_BFLOAT16, GROUP_COST_BFLOAT16)
        if buckets
        else (STEP_COST, GROUP_COST)
    )
    for docs in cheapest_groups(L, *costs):
        steps, size = int(L[docs[0]]), len(docs)
        if buckets:  # extra sequences of length 0: padding only
            steps, size = bucket(steps), bucket(size)
            docs = docs + [len(L)] * (size - len(docs))
        t = numpy.arange(steps)[:, None]
        doc_len, doc_start = Lx[docs][None, :], starts_x[docs][None, :]
        real = t < doc_len
        forward_index = numpy.where(real, doc_start + t, n_tokens)
        backward_index = numpy.where(real, doc_start + doc_len - 1 - t, n_tokens)
        rows = offset + t * size + numpy.arange(size)[None, :]
        # Step t of the backward pass reads token len - 1 - t of the doc.
        forward_rows[forward_index[real]] = rows[real]
        backward_rows[backward_index[real]] = rows[real]
        groups.append((steps, size, forward_index.ravel(), backward_index.ravel()))
        offset += steps * size
    return groups, forward_rows, backward_rows


def convert_inputs(
    model: Model, inputs: Tuple[Floats2d, List[int]], is_train: bool
) -> Tuple[ArgsKwargs, Callable[[ArgsKwargs], Floats2d]]:
    """Thinc arrays to the torch module's arguments, and the gradient back."""
    X, lengths = inputs
    shim = cast(InPlaceUpdateShim, model.shims[0])
    device = shim.device
    # float32 keeps the exact plan: its CPU kernels gained nothing from buckets
    buckets = not is_train and shim.runs_in_bfloat16()
    groups, forward_rows, backward_rows = padding_plan(lengths, buckets=buckets)

    def to_device(index: Ints1d) -> torch.Tensor:
        return torch.from_numpy(index).to(device)

    args = (
        xp2torch(X, requires_grad=is_train, device=device),
        [(T, B, to_device(f), to_device(b)) for T, B, f, b in groups],
        to_device(forward_rows),
        to_device(backward_rows),
    )

    def convert_from_torch_backward(d_inputs: ArgsKwargs) -> Floats2d:
        return cast(Floats2d, torch2xp(d_inputs.args[0]))

    return ArgsKwargs(args=args, kwargs={}), convert_from_torch_backward


def convert_outputs(
    model: Model, inputs_outputs: Tuple, is_train: bool
) -> Tuple[Floats2d, Callable[[Floats2d], ArgsKwargs]]:
    """The torch output to a Thinc array, and its gradient back."""
    _, Ytorch = inputs_outputs
    device = cast(PyTorchShim, model.shims[0]).device

    def convert_for_torch_backward(dY: Floats2d) -> ArgsKwargs:
        dYtorch = xp2torch(dY, device=device)
        return ArgsKwargs(args=(Ytorch,), kwargs={"grad_tensors": dYtorch})

    return cast(Floats2d, torch2xp(Ytorch)), convert_for_torch_backward
