"""How a pipeline's spacy-lstm torch layers compute at inference: in which
precision (bfloat16 where the hardware has it, by default), or in int8."""

from typing import Callable, List

import torch
from spacy.language import Language
from spacy.util import registry
from thinc.api import Model

from .models.torch_wrapper import InPlaceUpdateShim
from .precision import check_precision, inference_dtype


@registry.callbacks("spacy-lstm.precision.v1")
def create_precision(precision: str = "auto") -> Callable[[Language], Language]:
    """A callback for [nlp.after_pipeline_creation] that sets the inference
    precision of every spacy-lstm layer in the pipeline it creates, and so
    whenever a saved or packaged pipeline is loaded.

    precision (str): "auto" (bfloat16 where the device computes it natively,
        float32 elsewhere), "float32" or "bfloat16".
    CREATES (Callable[[Language], Language]): The callback.
    """
    check_precision(precision)

    def set_pipeline_precision(nlp: Language) -> Language:
        return set_precision(nlp, precision)

    return set_pipeline_precision


def precision_of(nlp: Language) -> str:
    """What the pipeline's spacy-lstm layers compute in at inference on
    their devices, now: "bfloat16", "float32" or "int8", several joined by
    "and" if they differ, or "none" where the pipeline has no spacy-lstm
    torch layers.

    nlp (Language): The pipeline.
    RETURNS (str): The precision.
    """
    names = set()
    for shim in torch_shims(nlp):
        if shim.int8_inference and shim.device.type == "cpu":
            names.add("int8")
        else:
            dtype = inference_dtype(shim.precision, shim.device)
            names.add(str(dtype).replace("torch.", ""))
    return " and ".join(sorted(names)) if names else "none"


def set_precision(nlp: Language, precision: str) -> Language:
    """Set the precision that the pipeline's spacy-lstm layers compute in at
    inference: the BiLSTM encoders, the parser's biaffine scorers and lstm_lm.
    Training always runs in float32, and the weights stay float32.

    nlp (Language): The pipeline, changed in place.
    precision (str): "auto" (bfloat16 where the device computes it natively,
        float32 elsewhere; the environment variable SPACY_LSTM_PRECISION, when
        set, decides instead), "float32" or "bfloat16".
    RETURNS (Language): The pipeline.
    """
    check_precision(precision)
    for shim in torch_shims(nlp):
        shim.precision = precision
    for _, component in nlp.components:
        cfg = getattr(component, "cfg", None)
        if isinstance(cfg, dict) and "precision" in cfg:
            cfg["precision"] = precision
    return nlp


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
