"""int8 inference for the BiLSTM encoders and biaffine scorers of a pipeline."""

from typing import Callable, List

import torch
from spacy.language import Language
from spacy.util import registry
from thinc.api import Model

from .models.torch_wrapper import InPlaceUpdateShim


@registry.callbacks("spacy-lstm.int8_inference.v1")
def create_int8_inference() -> Callable[[Language], Language]:
    """A callback for [nlp.after_pipeline_creation] that turns on
    int8_inference for the pipeline it creates, so that a saved or packaged
    pipeline parses in int8 whenever it is loaded."""
    return int8_inference


def int8_inference(nlp: Language, enable: bool = True) -> Language:
    """Run the pipeline's spacy-lstm encoders and parser scorers in int8 on
    CPU: their LSTM, GRU and linear layers get int8 weights (torch's dynamic
    quantization), made from the float weights when first used and again
    whenever those change. Training and the float weights, which are what
    the pipeline saves, are untouched. On a GPU it does nothing.

    The activations are quantized with a scale taken from each batch, so
    unlike in float32 a doc's parse can depend, rarely, on the docs it is
    batched with.

    nlp (Language): The pipeline, changed in place.
    enable (bool): False turns float32 inference back on.
    RETURNS (Language): The pipeline.
    """
    quantization = getattr(getattr(torch, "ao", None), "quantization", None)
    if enable and not hasattr(quantization, "quantize_dynamic"):
        raise ValueError(
            "int8 inference needs torch's dynamic quantization "
            "(torch.ao.quantization.quantize_dynamic), which torch "
            f"{torch.__version__} does not have. Parse in float32: remove "
            "spacy-lstm.int8_inference.v1 from [nlp.after_pipeline_creation], "
            "or the --int8 option."
        )
    for shim in torch_shims(nlp):
        shim.int8_inference = enable
    return nlp


def torch_shims(nlp: Language) -> List[InPlaceUpdateShim]:
    """The spacy-lstm torch modules' shims in the pipeline's components."""
    shims = []
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        if isinstance(model, Model):
            for node in model.walk():
                shims.extend(s for s in node.shims if isinstance(s, InPlaceUpdateShim))
    return shims
