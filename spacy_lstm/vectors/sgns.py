"""Skip-gram and CBOW with negative sampling: the training kernel.

word2vec is a long sequence of tiny updates (a 100-dim dot product per word
pair), so its speed is set by per-pair overhead. A batched torch version
(gather, bmm, index_add_) ran skip-gram at about 120k words/s here (2 threads,
2,048-word batches; larger batches were slower), and it sums all updates to a
frequent word in a batch into one step, which is not the published algorithm.
This compiled loop updates the rows in place, as word2vec.c and gensim do, at
about 2M words/s on the same data. numba compiles it; it releases the GIL, so
several threads run it on different sentences at once, sharing the weights
without locks ("Hogwild"), as gensim's workers do.
"""

import numpy as np
from numba import njit

# word2vec.c's linear congruential generator: fast, and the same stream on every
# platform for a given seed.
_LCG_MUL = np.uint64(25214903917)
_LCG_ADD = np.uint64(11)
# word2vec.c's sigmoid table: scores beyond +-MAX_SCORE are left alone (no
# gradient), as in word2vec.c and gensim; inside, a table lookup is cheaper than exp.
MAX_SCORE = 6.0
SIGMOID_STEPS = 1000
_SIGMOID = (
    1.0
    / (1.0 + np.exp(-(np.arange(SIGMOID_STEPS) / SIGMOID_STEPS * 2 - 1) * MAX_SCORE))
).astype(np.float32)
# The loss is only reported, so it is computed for one prediction in LOSS_EVERY.
LOSS_EVERY = 16


@njit(nogil=True, cache=True, fastmath=True)
def _sgns_step(inp, syn1, word, cum_table, negative, alpha, rnd, neu1e, with_loss):
    """Update syn1 for one input vector `inp` that should predict `word` against
    `negative` sampled words; accumulate the input's gradient in neu1e."""
    dim = inp.shape[0]
    loss = 0.0
    cum_max = cum_table[cum_table.shape[0] - 1]
    for d in range(negative + 1):
        if d == 0:
            target = word
            label = 1.0
        else:
            rnd = rnd * _LCG_MUL + _LCG_ADD
            target = np.searchsorted(
                cum_table, (rnd >> np.uint64(16)) % cum_max, "right"
            )
            if target == word:
                continue
            label = 0.0
        out = syn1[target]
        f = np.float32(0.0)
        for k in range(dim):
            f += inp[k] * out[k]
        if with_loss:  # -log sigmoid(+-f), stable for large |f|
            margin = f if label > 0 else -f
            loss += max(-margin, 0.0) + np.log1p(np.exp(-abs(margin)))
        if f <= -MAX_SCORE or f >= MAX_SCORE:
            continue
        prob = _SIGMOID[int((f + MAX_SCORE) * (SIGMOID_STEPS / MAX_SCORE / 2))]
        g = np.float32((label - prob) * alpha)
        for k in range(dim):
            neu1e[k] += g * out[k]
            out[k] += g * inp[k]
    return loss, rnd


@njit(nogil=True, cache=True, fastmath=True)
def train_sentences(
    keys,
    starts,
    sorted_keys,
    sorted_rows,
    syn0,
    syn1,
    cum_table,
    keep_prob,
    skipgram,
    window,
    negative,
    alpha_start,
    alpha_end,
    seed,
):
    """Train on sentences keys[starts[i]:starts[i + 1]]. A key's vectors are in
    row sorted_rows[j] where sorted_keys[j] == key; keys not there are skipped.
    (Looking keys up here rather than in numpy keeps the GIL free: a thread
    that needs it waits for the reader's Python code.)

    The learning rate falls linearly from alpha_start at the first token to
    alpha_end after the last. Returns the summed loss of a sample of the
    predictions (one in LOSS_EVERY) and the size of that sample.
    """
    dim = syn0.shape[1]
    total = max(keys.shape[0], 1)
    last_key = sorted_keys.shape[0] - 1
    rnd = np.uint64(seed)
    neu1 = np.zeros(dim, np.float32)
    neu1e = np.zeros(dim, np.float32)
    longest = 0
    for s in range(starts.shape[0] - 1):
        longest = max(longest, starts[s + 1] - starts[s])
    sent = np.empty(longest, np.int64)
    loss = 0.0
    n_pred = 0
    n_seen = 0
    for s in range(starts.shape[0] - 1):
        alpha = alpha_start + (alpha_end - alpha_start) * (starts[s] / total)
        n = 0
        for i in range(starts[s], starts[s + 1]):
            found = min(np.searchsorted(sorted_keys, keys[i]), last_key)
            if sorted_keys[found] != keys[i]:
                continue
            w = sorted_rows[found]
            if keep_prob[w] < 1.0:
                rnd = rnd * _LCG_MUL + _LCG_ADD
                if (
                    keep_prob[w]
                    < ((rnd >> np.uint64(16)) & np.uint64(0xFFFFFF)) / 16777216.0
                ):
                    continue
            sent[n] = w
            n += 1
        for pos in range(n):
            # word2vec's random window shrinking: b in [1, window]
            rnd = rnd * _LCG_MUL + _LCG_ADD
            # the high bits: an LCG's low bits repeat with short periods
            b = window - np.int64((rnd >> np.uint64(16)) % np.uint64(window))
            lo = max(pos - b, 0)
            hi = min(pos + b + 1, n)
            word = sent[pos]
            if skipgram:
                for j in range(lo, hi):
                    if j == pos:
                        continue
                    inp = syn0[sent[j]]
                    neu1e[:] = 0.0
                    with_loss = n_seen % LOSS_EVERY == 0
                    n_seen += 1
                    step_loss, rnd = _sgns_step(
                        inp,
                        syn1,
                        word,
                        cum_table,
                        negative,
                        alpha,
                        rnd,
                        neu1e,
                        with_loss,
                    )
                    loss += step_loss
                    n_pred += with_loss
                    for k in range(dim):
                        inp[k] += neu1e[k]
            else:
                count = hi - lo - 1
                if count == 0:
                    continue
                neu1[:] = 0.0
                for j in range(lo, hi):
                    if j != pos:
                        ctx = syn0[sent[j]]
                        for k in range(dim):
                            neu1[k] += ctx[k]
                scale = np.float32(1.0 / count)
                for k in range(dim):
                    neu1[k] *= scale
                neu1e[:] = 0.0
                with_loss = n_seen % LOSS_EVERY == 0
                n_seen += 1
                step_loss, rnd = _sgns_step(
                    neu1, syn1, word, cum_table, negative, alpha, rnd, neu1e, with_loss
                )
                loss += step_loss
                n_pred += with_loss
                # as gensim's cbow_mean: each context word gets the whole error
                for j in range(lo, hi):
                    if j != pos:
                        ctx = syn0[sent[j]]
                        for k in range(dim):
                            ctx[k] += neu1e[k]
    return loss, n_pred
