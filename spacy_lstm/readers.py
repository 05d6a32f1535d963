"""Corpus readers."""

import random
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Corpus, Example
from spacy.training.converters import conllu_to_docs
from spacy.util import ensure_path, registry
from spacy.vocab import Vocab


@registry.readers("spacy-lstm.Corpus.v1")
def create_corpus_reader(
    path: Optional[Path],
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Callable] = None,
    n_sents: int = 10,
) -> Callable[[Language], Iterable[Example]]:
    """Read training data from a CoNLL-U file, or from what spacy.Corpus.v1
    reads (a .spacy file or a directory of them).

    A .conllu file is converted in memory as `spacy convert -c conllu -n
    N_SENTS` would, so a treebank trains without a conversion step.

    path (Path): A .conllu file, a .spacy file or a directory of .spacy files.
    gold_preproc (bool): Train on the gold tokenization, one sentence per doc.
    max_length (int): Split longer docs into sentences (0 for no limit).
    limit (int): Read at most this many docs (0 for no limit).
    augmenter (Optional[Callable]): A data augmenter, as in spacy.Corpus.v1.
    n_sents (int): Sentences per doc when reading CoNLL-U.
    RETURNS (Callable[[Language], Iterable[Example]]): The corpus.
    """
    if path is None:
        raise ValueError(
            "spacy-lstm.Corpus.v1 has no path. Set it in the config or on the "
            "command line, e.g. --paths.train corpus/ud/train.conllu."
        )
    path = ensure_path(path)
    if not path.exists():
        raise ValueError(f"Corpus path does not exist: {path}")
    if n_sents < 1:
        raise ValueError(f"n_sents must be at least 1, got {n_sents}.")
    return ConlluCorpus(
        path,
        gold_preproc=gold_preproc,
        max_length=max_length,
        limit=limit,
        augmenter=augmenter,
        n_sents=n_sents,
    )


class ConlluCorpus(Corpus):
    """spaCy's Corpus, extended to read a CoNLL-U file."""

    def __init__(self, path: Path, *, n_sents: int = 10, **kwargs) -> None:
        super().__init__(path, **kwargs)
        self.n_sents = n_sents
        self._converted: Optional[DocBin] = None  # converted once, reused each epoch

    def __call__(self, nlp: Language) -> Iterator[Example]:
        if self.path.is_dir() or self.path.suffix != ".conllu":
            yield from super().__call__(nlp)
            return
        ref_docs: Iterable[Doc] = self.read_conllu(nlp.vocab)
        if self.shuffle:
            ref_docs = list(ref_docs)
            random.shuffle(ref_docs)
        if self.gold_preproc:
            examples = self.make_examples_gold_preproc(nlp, ref_docs)
        else:
            examples = self.make_examples(nlp, ref_docs)
        for example in examples:
            yield from self.augmenter(nlp, example)  # type: ignore[misc]

    def read_conllu(self, vocab: Vocab) -> Iterator[Doc]:
        if self._converted is None:
            try:
                text = self.path.read_text(encoding="utf8")
            except UnicodeDecodeError as err:
                raise ValueError(
                    f"CoNLL-U file {self.path} is not UTF-8: {err}"
                ) from err
            if not text.strip():
                raise ValueError(f"No sentences found in CoNLL-U file {self.path}")
            try:
                docs = list(conllu_to_docs(text, n_sents=self.n_sents, no_print=True))
            except (ValueError, IndexError, KeyError) as err:
                # spaCy's converter fails on the first malformed line without
                # saying which file it was reading.
                raise ValueError(
                    f"Could not read CoNLL-U file {self.path}: {err}. Each token "
                    "line needs 10 tab-separated columns."
                ) from err
            self._converted = DocBin(docs=docs)
        docs = self._converted.get_docs(vocab)
        for i, doc in enumerate(docs):
            if self.limit >= 1 and i >= self.limit:
                break
            yield doc
