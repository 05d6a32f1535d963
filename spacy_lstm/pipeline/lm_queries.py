"""What a trained lstm_lm can be asked beyond annotating docs: the gates at
each unit, next-word suggestions, fill-in-the-blank, minimal pairs,
generation and the perplexity of a whole stream. A mixin of LanguageModel,
which supplies the vocabulary (tokens, _units, _ids, _token_index,
_unknown_tokens), the model and _batch_surprisal."""

import math
import numbers
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
import torch
from spacy.tokens import Doc

from ..models.language_model import torch_module
from ..torch_modules.gates import gate_activations
from ..training.readers import EOS

LOG2 = math.log(2)


def check_count(name: str, value: int, minimum: int = 1) -> None:
    """A ValueError unless value is an integer >= minimum."""
    if not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


class LanguageModelQueries:
    """The questions LanguageModel answers about text it is given."""

    def gates(self, doc: Doc) -> Dict:
        """What the recurrent layers do at each token the model reads: per
        layer, the activations recomputed step by step from the model's
        weights (the hidden states equal those of torch's fused kernels).
        Returns {"units": the words or characters read, "surprisal": their
        bits, "cell": the cell type, "layers": [{name: numpy array (n_units,
        width)}, ...]}: an LSTM's
        "input", "forget" and "output" gates, its "candidate" update, "cell"
        state and "hidden" state; a GRU's "reset" and "update" gates,
        "candidate" and "hidden"; a vanilla RNN's "hidden" only (it has no
        gates). Row i belongs to units[i], read after <eos> and the units
        before it; `.mean(axis=1)` gives one value per unit."""
        if not self.tokens:
            raise ValueError("lstm_lm is not initialized: run nlp.initialize() first.")
        module = torch_module(self.model)
        device = next(module.parameters()).device
        units = self._units(doc)
        ids = torch.tensor([self._token_index()[EOS]] + self._ids(units), device=device)
        module.eval()
        with torch.no_grad():
            layers = gate_activations(module.rnn, module.embed(ids).float())
        surprisal = self._batch_surprisal([ids[1:].tolist()])[0] if units else []
        return {
            "units": units,
            "surprisal": numpy.asarray(surprisal, dtype="float32"),
            "cell": module.config["cell"],
            "layers": [
                {name: values[1:].cpu().numpy() for name, values in layer.items()}
                for layer in layers
            ],
        }

    def suggest(self, doc: Doc, n: int = 5) -> List[Tuple[str, float]]:
        """The n most likely next words (or characters) after the doc, with
        their probabilities, best first (<unk> and the unknown-word classes
        are never among them)."""
        check_count("n", n)
        return self._likeliest_next(self._units(doc), n)

    def _likeliest_next(self, units: List[str], n: int) -> List[Tuple[str, float]]:
        probs = self._next_log_probs(self._ids(units)).exp()
        unknown = [self._token_index()[token] for token in self._unknown_tokens()]
        probs[unknown] = -1.0  # below every probability
        top = torch.topk(probs, min(n, len(self.tokens) - len(unknown)))
        return [(self.tokens[i], float(p)) for p, i in zip(top.values, top.indices)]

    def fill_blank(
        self,
        doc: Doc,
        candidates: Optional[List[str]] = None,
        n: int = 5,
    ) -> List[Tuple[str, float]]:
        """Rank fillers for the blank, the first token made of underscores
        ("___"; several such tokens in a row, as spaCy's tokenizer makes of
        "___", are one blank), by the probability of the whole completed
        sentence (<eos> included), so the words after the blank count too.
        Without candidates, the 50 likeliest words at the blank compete. A
        candidate is keyed as the model's words are (lower-cased for key =
        LOWER); one outside the model's vocabulary is an error, since the
        model would only score <unk>. Returns the n best with their share of
        the candidates' probability."""
        check_count("n", n)
        units = self._units(doc)
        blank = [bool(unit) and set(unit) == {"_"} for unit in units]
        if self.cfg["level"] == "char" or not any(blank):
            raise ValueError(
                "fill_blank needs a word-level model and a blank token ('___')."
            )
        at = blank.index(True)
        end = at
        while end < len(units) and blank[end]:
            end += 1
        if candidates is None:
            candidates = [word for word, _ in self._likeliest_next(units[:at], 50)]
        keyed = [self._units(Doc(self.vocab, words=[word]))[0] for word in candidates]
        unknown = [
            word
            for word, key in zip(candidates, keyed)
            if key not in self._token_index()
        ]
        if unknown or not candidates:
            raise ValueError(
                "fill_blank: no candidates given."
                if not candidates
                else f"fill_blank: not in the language model's vocabulary: {unknown}."
            )
        filled = [self._ids(units[:at] + [key] + units[end:] + [EOS]) for key in keyed]
        scores = [-float(bits.sum()) for bits in self._batch_surprisal(filled)]
        shares = torch.softmax(torch.tensor(scores) * LOG2, dim=0).tolist()
        ranked = sorted(zip(candidates, shares), key=lambda item: -item[1])
        return ranked[:n]

    def candidate_log_probs(
        self,
        prefixes: Sequence[Sequence[str]],
        candidates: Sequence[Sequence[str]],
        batch_size: int = 64,
    ) -> List[List[Optional[float]]]:
        """For each prefix (its words, read after <eos>), the natural log-
        probability of each of its candidate next words: the minimal-pair
        test of syntactic evaluation ("the keys to the cabinet" + [are, is]).
        Words are keyed as the model's tokens are (lower-cased for key =
        LOWER); a candidate outside the model's vocabulary gets None, since
        the model could only score <unk>. Prefixes of similar length run side
        by side in batches."""
        if self.cfg["level"] == "char":
            raise ValueError("candidate_log_probs needs a word-level model.")
        if len(prefixes) != len(candidates):
            raise ValueError(
                f"{len(prefixes)} prefixes but {len(candidates)} lists of candidates."
            )
        check_count("batch_size", batch_size)
        module = torch_module(self.model)
        device = next(module.parameters()).device
        module.eval()
        index = self._token_index()
        eos = index[EOS]

        def keyed(words: Sequence[str]) -> List[str]:
            return self._units(Doc(self.vocab, words=list(words)))

        contexts = [[eos] + self._ids(keyed(prefix)) for prefix in prefixes]
        wanted = [[index.get(key) for key in keyed(words)] for words in candidates]
        out: List[List[Optional[float]]] = [[None] * len(c) for c in wanted]
        order = sorted(range(len(contexts)), key=lambda i: len(contexts[i]))
        for start in range(0, len(order), batch_size):
            group = order[start : start + batch_size]
            batch = torch.full((len(group), len(contexts[group[-1]])), eos)
            for row, i in enumerate(group):
                batch[row, : len(contexts[i])] = torch.tensor(contexts[i])
            last = torch.tensor([len(contexts[i]) - 1 for i in group])
            with torch.no_grad():
                hidden, _ = module(batch.to(device))
                # padding comes after each prefix's last word: unseen from it
                states = hidden[torch.arange(len(group)), last.to(device)]
                log_probs = module.log_probs(states).cpu()
            for row, i in enumerate(group):
                for k, word_id in enumerate(wanted[i]):
                    if word_id is not None:
                        out[i][k] = float(log_probs[row, word_id])
        return out

    def generate(
        self,
        prompt: Doc,
        n_tokens: int = 20,
        temperature: float = 1.0,
        top_k: int = 0,
        seed: int = 0,
    ) -> List[str]:
        """Sample n_tokens words (or characters) after the prompt. The same
        seed gives the same text. top_k > 0 samples from the k likeliest only."""
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be positive, got {temperature}.")
        check_count("n_tokens", n_tokens, minimum=0)
        check_count("top_k", top_k, minimum=0)
        module = torch_module(self.model)
        device = next(module.parameters()).device
        generator = torch.Generator().manual_seed(seed)
        unknown = [self._token_index()[token] for token in self._unknown_tokens()]
        ids = [self._token_index()[EOS]] + self._ids(self._units(prompt))
        out: List[str] = []
        module.eval()
        with torch.no_grad():
            hidden, state = module(torch.tensor([ids], device=device))
            for _ in range(n_tokens):
                logits = module.log_probs(hidden[:, -1:])[0, 0] / temperature
                logits[unknown] = -math.inf
                if top_k > 0:
                    kth = torch.topk(logits, min(top_k, len(logits))).values[-1]
                    logits[logits < kth] = -math.inf
                probs = torch.softmax(logits, dim=0).cpu()
                next_id = int(torch.multinomial(probs, 1, generator=generator))
                out.append(self.tokens[next_id])
                step = torch.tensor([[next_id]], device=device)
                hidden, state = module(step, state)
        return out

    def stream_perplexity(
        self,
        units: List[str],
        wrap_steps: Callable[[Iterable, int], Iterable] = lambda steps, n: steps,
    ) -> float:
        """Perplexity of a stream of words (with <eos>) or characters, the
        state carried across the whole stream, the first unit predicted after
        <eos>: the convention of published Penn Treebank numbers.

        wrap_steps (Callable): Wraps the chunks of steps, e.g. in a progress bar.
        """
        if not units:
            raise ValueError("The text has no tokens.")
        bits = self._batch_surprisal([self._ids(units)], wrap_steps=wrap_steps)[0]
        return float(2.0 ** bits.mean())

    def units_of_text(self, text: str, make_doc: Callable[[str], Doc]) -> List[str]:
        """A text file's stream: its characters, or each line's words (from
        make_doc, keyed as the model's tokens are) then <eos>."""
        if self.cfg["level"] == "char":
            return list(text)
        units: List[str] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            units.extend(u for u in self._units(make_doc(line)) if u != EOS)
            units.append(EOS)
        return units

    def _next_log_probs(self, ids: List[int]) -> torch.Tensor:
        module = torch_module(self.model)
        device = next(module.parameters()).device
        module.eval()
        context = torch.tensor([[self._token_index()[EOS]] + ids], device=device)
        with torch.no_grad():
            hidden, _ = module(context)
            return module.log_probs(hidden[:, -1:])[0, 0].cpu()
