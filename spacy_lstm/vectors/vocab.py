"""The word2vec vocabulary: frequency-ranked words, subsampling and the noise table."""

import numpy as np

# gensim's domain for the cumulative noise table: integers, so that a sample is one
# random integer and a binary search.
NOISE_DOMAIN = 2**31 - 1


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """The probability of keeping each word under frequent-word subsampling
    (Mikolov et al. 2013, in the form word2vec.c and gensim use)."""
    counts = counts.astype(np.float64)
    if sample <= 0 or counts.size == 0:
        return np.ones(counts.shape, dtype=np.float32)
    threshold = sample * counts.sum()
    keep = (np.sqrt(counts / threshold) + 1.0) * (threshold / counts)
    return np.minimum(keep, 1.0).astype(np.float32)


def noise_table(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Cumulative unigram^power weights scaled to NOISE_DOMAIN, for sampling."""
    weights = counts.astype(np.float64) ** power
    cumulative = np.cumsum(weights) / weights.sum() * NOISE_DOMAIN
    return np.round(cumulative).astype(np.uint64)
