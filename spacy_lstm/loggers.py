"""spacy-lstm.ConsoleLogger.v1: spaCy's console logger, with perplexity shown
as itself.

spacy.ConsoleLogger.v3 prints every score but speed times 100, as a
percentage, so a perplexity of 82.2 would read 8220.00. This logger divides the
perplexity scores by 100 on their way to it, and nothing else changes.
"""

from typing import IO, Any, Callable, Dict, Optional, Tuple, Union

from spacy.language import Language
from spacy.util import registry

# Scores that are not fractions
UNSCALED = ("lm_ppl",)


@registry.loggers("spacy-lstm.ConsoleLogger.v1")
def console_logger(
    progress_bar: Optional[str] = None,
    console_output: bool = True,
    output_file: Optional[Union[str, Any]] = None,
) -> Callable:
    """The settings of spacy.ConsoleLogger.v3, which does the logging.

    progress_bar (Optional[str]): "eval", "train" or None.
    console_output (bool): Print to the console.
    output_file (Optional[str]): Also write the log to this file (JSON lines).
    """
    spacy_logger = registry.loggers.get("spacy.ConsoleLogger.v3")(
        progress_bar=progress_bar,
        console_output=console_output,
        output_file=output_file,
    )

    def setup(nlp: Language, stdout: IO, stderr: IO) -> Tuple[Callable, Callable]:
        log_step, finalize = spacy_logger(nlp, stdout, stderr)

        def log_unscaled(info: Optional[Dict[str, Any]]) -> None:
            if info is not None and "other_scores" in info:
                scores = dict(info["other_scores"])
                for key in UNSCALED:
                    if isinstance(scores.get(key), (int, float)):
                        scores[key] = scores[key] / 100
                info = {**info, "other_scores": scores}
            log_step(info)

        return log_unscaled, finalize

    return setup
