"""Pure tensor functions for a linear-chain CRF.

Nothing here holds parameters or state, reads a config, or picks a device:
tensors in, tensors out. `nerkit.crf.layer.CRF` owns the learned scores and
calls these functions.

Shapes (batch-first everywhere in nerkit):
    B batch size, T padded length, C number of tags, K number of best paths
    emissions    (B, T, C) float  unnormalised score of each tag at each token
    tags         (B, T)    long   gold tag ids; padded positions hold any valid id
    mask         (B, T)    bool   True on real tokens; left-aligned, mask[:, 0] all True
    transitions  (C, C)    float  transitions[i, j] scores tag i followed by tag j
    start, end   (C,)      float  score of a sequence starting / ending in a tag
    unary        (B, T, C) float  a distribution's marginals: P(tag at t = c)
    counts       (B, C, C) float  its expected number of steps from tag i to tag j

How it is fast. Per-step Python and dispatch overhead, not arithmetic, dominates a
CRF on a CPU, so every recursion here is written to issue as few tensor operations
per time step as possible:

* the batch is sorted by length once, so step t works on the leading rows that are
  still active (a slice) instead of masking every row with `torch.where`;
* log Z runs in exp space with per-step rescaling (Rabiner's scaled forward
  algorithm): one matrix product, one multiply, one sum and one divide per step,
  with the logarithms taken once at the end;
* its gradient is written by hand: the scaled backward recursion (two operations per
  step) gives the posterior marginals, which are exactly d log Z / d emissions, and the
  transition gradient is one matrix product over all steps at the end.

Transition scores may be -inf (forbidden); exp(-inf) = 0 gives such paths exactly zero
probability. Every sequence must have at least one path of finite score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "check_inputs",
    "expected_counts",
    "expected_score",
    "log_partition",
    "marginals",
    "nbest",
    "sequence_score",
    "viterbi",
]


def check_inputs(emissions: Tensor, mask: Tensor, transitions: Tensor) -> None:
    """Raise ValueError unless the shapes, dtypes and mask follow the module conventions."""
    if emissions.dim() != 3:
        raise ValueError(
            f"emissions must have shape (batch, length, tags), got {tuple(emissions.shape)}"
        )
    num_tags = transitions.size(0)
    if emissions.size(2) != num_tags:
        raise ValueError(
            f"emissions has {emissions.size(2)} tag scores per token but the CRF has "
            f"{num_tags} tags"
        )
    if mask.shape != emissions.shape[:2]:
        raise ValueError(
            f"mask has shape {tuple(mask.shape)} but emissions has (batch, length) "
            f"{tuple(emissions.shape[:2])}"
        )
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor, got {mask.dtype}")
    # the same checks on a NumPy view cost a few us against ~0.2 ms in torch, per batch
    _, (flags,) = _array_module(mask)
    if emissions.size(1) == 0 or not bool(flags[:, 0].all()):
        empty = (~mask[:, 0]).nonzero().flatten().tolist() if emissions.size(1) else "all"
        raise ValueError(
            f"every sequence needs at least one token; rows {empty} have mask[:, 0] == False "
            "(drop empty sentences before batching)"
        )
    if emissions.size(1) > 1 and bool((flags[:, 1:] & ~flags[:, :-1]).any()):
        rows = (mask[:, 1:] & ~mask[:, :-1]).any(dim=1).nonzero().flatten().tolist()
        raise ValueError(
            f"mask must be left-aligned (True then False), rows {rows} have a gap "
            "(pad at the end of each sequence)"
        )


def sequence_score(
    emissions: Tensor, tags: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """Return the score of the given tag path of each sequence, shape (B,)."""
    check_inputs(emissions, mask, transitions)
    if tags.shape != mask.shape:
        raise ValueError(f"tags has shape {tuple(tags.shape)} but mask has {tuple(mask.shape)}")
    weights = mask.to(emissions.dtype)  # (B, T)
    unary = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
    score = start[tags[:, 0]] + (unary * weights).sum(dim=1)
    if tags.size(1) > 1:
        pairs = transitions[tags[:, :-1], tags[:, 1:]]  # (B, T - 1)
        score = score + (pairs * weights[:, 1:]).sum(dim=1)
    last = mask.sum(dim=1, keepdim=True) - 1  # (B, 1)
    return score + end[tags.gather(1, last).squeeze(1)]


class _SortedBatch:
    """A batch sorted by decreasing length, time-major, with the active row count per step."""

    def __init__(self, emissions: Tensor, mask: Tensor) -> None:
        lengths = mask.sum(dim=1)  # (B,)
        self.lengths, self.order = lengths.sort(descending=True, stable=True)
        # active[t] = number of sequences longer than t, i.e. the rows alive at step t
        steps = torch.arange(emissions.size(1), device=mask.device)
        self.active: list[int] = (self.lengths.unsqueeze(1) > steps).sum(dim=0).tolist()
        self.identity = bool((self.order == torch.arange(len(lengths))).all())
        sorted_emissions = emissions if self.identity else emissions[self.order]
        self.emissions = sorted_emissions.detach().transpose(0, 1).contiguous()  # (T, B, C)

    def unsort(self, batch_first: Tensor) -> Tensor:
        """Put the rows of a (B, ...) tensor back into the caller's order."""
        if self.identity:
            return batch_first
        return torch.empty_like(batch_first).index_copy_(0, self.order, batch_first)


def _array_module(*tensors: Tensor) -> tuple[Any, list[Any]]:
    """Return the module to run a recursion with and the arrays to run it on.

    On the CPU the per-step loops run on NumPy views of the tensors (shared memory,
    no copies): a NumPy call costs about 1 us against 5-25 us for the same torch call
    on these small arrays, and per-step overhead is what a CRF pays for. On other
    devices, for dtypes NumPy lacks, and while tracing or scripting for export, the
    same code runs on the tensors with torch: every call below exists in both
    libraries with the same positional signature.
    """
    exporting = torch.jit.is_tracing() or torch.jit.is_scripting()
    if not exporting and all(
        t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64, torch.long, torch.bool)
        for t in tensors
    ):
        return np, [t.detach().numpy() for t in tensors]
    return torch, list(tensors)


def _scaled_forward(
    batch: _SortedBatch, transitions: Tensor, start: Tensor, end: Tensor
) -> tuple[Tensor, ...]:
    """Run the scaled forward recursion; return what log Z and the backward pass need.

    Returns (alpha, norms, exp_em, exp_tr, exp_end, end_norm, log_z), all in sorted order:
    alpha (T, B, C) normalised forward scores (zero on padded steps), norms (T, B, 1)
    per-step normalisers (one on padded steps), exp_em (T, B, C), exp_tr (C, C),
    exp_end (C,), end_norm (B,) and log_z (B,).
    """
    # Every score is exponentiated less its maximum, so each factor is at most 1 and exp
    # cannot overflow; log_z below adds each of these shifts back once.
    em = batch.emissions  # (T, B, C)
    length, size, num_tags = em.shape
    em_max = em.amax(dim=2, keepdim=True)  # (T, B, 1): one shift per step and row
    exp_em = (em - em_max).exp_()
    tr_max, start_max, end_max = transitions.max(), start.max(), end.max()
    exp_tr = (transitions.detach() - tr_max).exp()
    exp_end = (end.detach() - end_max).exp()

    alpha = em.new_zeros(em.shape)
    norms = em.new_ones(length, size, 1)
    torch.mul((start.detach() - start_max).exp(), exp_em[0], out=alpha[0])
    ones = em.new_ones(num_tags, 1)
    # The loop runs on short-named views of these tensors (NumPy on the CPU, else the
    # tensors themselves; see `_array_module`). Views share memory: writing a and z fills
    # alpha and norms.
    #   a    alpha   (T, B, C)  forward scores at t, divided by z[t] to sum to 1; 0 past a row's end
    #   z    norms   (T, B, 1)  what each a[t] row was divided by; stays 1 past a row's end
    #   e    exp_em  (T, B, C)  exp(emissions - em_max)
    #   tr   exp_tr  (C, C)     exp(transitions - tr_max), (C_prev, C_next)
    #   one  ones    (C, 1)     a[t] @ one is the row sum, written straight into z[t]
    xp, (a, z, e, tr, one) = _array_module(alpha, norms, exp_em, exp_tr, ones)
    xp.matmul(a[0], one, out=z[0])
    a[0] /= z[0]
    for t in range(1, length):
        # the batch is sorted by length: its first n rows are the ones still running at t
        n = batch.active[t]
        if n == 0:
            break
        # (n, C_prev) @ (C_prev, C_next): sum over the previous tag of alpha * exp(transition)
        xp.matmul(a[t - 1, :n], tr, out=a[t, :n])
        a[t, :n] *= e[t, :n]  # times exp(emission at t)
        xp.matmul(a[t, :n], one, out=z[t, :n])  # the normaliser: a row sum, as a product
        a[t, :n] /= z[t, :n]

    rows = torch.arange(size, device=em.device)
    last = alpha[batch.lengths - 1, rows]  # (B, C)
    end_norm = last @ exp_end  # (B,): the closing sum over the last tag, with exp(end)
    # padded steps are on no path, so their emission shifts are not added back
    padded = torch.arange(length, device=em.device).unsqueeze(1) >= batch.lengths  # (T, B)
    shift = em_max.squeeze(2).masked_fill(padded, 0).sum(dim=0)  # (B,)
    # log Z = log(end_norm) plus everything the scaled recursion took out along the way:
    log_z = (
        # the per-step normalisers every a[t] was divided by (log 1 = 0 past a row's end)
        norms.log().sum(dim=0).squeeze(1)
        + end_norm.log()
        # every path of a row has one emission per real step t, each less em_max[t]
        + shift
        # and length - 1 transitions, each less tr_max
        + (batch.lengths - 1).to(em.dtype) * tr_max
        # and one start score less start_max, one end score less end_max
        + start_max
        + end_max
    )
    return alpha, norms, exp_em, exp_tr, exp_end, end_norm, log_z


def _scaled_backward(
    batch: _SortedBatch,
    norms: Tensor,
    exp_em: Tensor,
    exp_tr: Tensor,
    exp_end: Tensor,
    end_norm: Tensor,
) -> tuple[Tensor, Tensor]:
    """Run the scaled backward recursion; return (beta, incoming), both (T, B, C), sorted.

    With `alpha` from `_scaled_forward`, alpha * beta are the posterior marginals and
    alpha[t-1, :, i] * exp_tr[i, j] * incoming[t, :, j] the pairwise ones.
    """
    length = exp_em.size(0)
    scaled_em = exp_em / norms  # (T, B, C)
    beta = exp_em.new_zeros(exp_em.shape)
    incoming = exp_em.new_zeros(exp_em.shape)
    final = exp_end / end_norm.unsqueeze(1)  # (B, C): beta at each row's last step
    exp_tr_t = exp_tr.t().contiguous()
    # Short-named views, as in `_scaled_forward`; writing b and inc fills beta and incoming.
    #   b     beta       (T, B, C)  backward scores on alpha's scale: alpha[t] * b[t] sums to 1
    #   inc   incoming   (T, B, C)  e[t] * b[t]: step t's emission and all that follows it
    #   e     scaled_em  (T, B, C)  exp_em[t] / norms[t], the forward normaliser of step t
    #   tr_t  exp_tr_t   (C, C)     exp_tr transposed, (C_next, C_prev)
    #   fin   final      (B, C)     b at each row's last step: exp_end / end_norm
    xp, (b, inc, e, tr_t, fin) = _array_module(beta, incoming, scaled_em, exp_tr_t, final)
    active = [*batch.active, 0]
    for t in range(length - 1, -1, -1):
        # sorted batch: rows [:ending] go on past t, rows [ending:alive] end at t
        ending, alive = active[t + 1], active[t]
        if ending < alive:  # rows whose last token is t
            b[t, ending:alive] = fin[ending:alive]
        if ending > 0:
            xp.multiply(e[t + 1, :ending], b[t + 1, :ending], out=inc[t + 1, :ending])
            # (ending, C_next) @ (C_next, C_prev): sum over the next tag of exp(transition) * inc
            xp.matmul(inc[t + 1, :ending], tr_t, out=b[t, :ending])
    return beta, incoming


class _LogPartition(torch.autograd.Function):
    """log Z with a hand-written backward: the forward-backward marginals."""

    @staticmethod
    def forward(ctx, emissions, mask, transitions, start, end):  # type: ignore[override]
        batch = _SortedBatch(emissions, mask)
        alpha, norms, exp_em, exp_tr, exp_end, end_norm, log_z = _scaled_forward(
            batch, transitions, start, end
        )
        ctx.batch = batch
        ctx.save_for_backward(alpha, norms, exp_em, exp_tr, exp_end, end_norm)
        return batch.unsort(log_z)

    @staticmethod
    def backward(ctx, grad_log_z):  # type: ignore[override]
        batch: _SortedBatch = ctx.batch
        alpha, norms, exp_em, exp_tr, exp_end, end_norm = ctx.saved_tensors
        beta, incoming = _scaled_backward(batch, norms, exp_em, exp_tr, exp_end, end_norm)
        grad = grad_log_z[batch.order] if not batch.identity else grad_log_z  # (B,)
        weight = grad.view(1, -1, 1)
        num_tags = exp_tr.size(0)
        # beta and incoming are fresh tensors: scale them in place (the saved ones stay intact)
        pairs = incoming[1:].mul_(weight).reshape(-1, num_tags)  # (T-1 * B, C)
        grad_transitions = exp_tr * (alpha[:-1].reshape(-1, num_tags).t() @ pairs)
        rows = torch.arange(alpha.size(1), device=alpha.device)
        last = alpha[batch.lengths - 1, rows] * exp_end / end_norm.unsqueeze(1)  # (B, C)
        grad_end = (last * grad.unsqueeze(1)).sum(dim=0)
        posterior = beta.mul_(alpha).mul_(weight)  # (T, B, C) weighted marginals
        grad_start = posterior[0].sum(dim=0)
        grad_emissions = batch.unsort(posterior.transpose(0, 1))
        return grad_emissions, None, grad_transitions, grad_start, grad_end


def log_partition(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """Return log Z, the log-sum-exp of the scores of all C**length paths, shape (B,).

    Scaled forward algorithm in exp space, O(T * C**2); differentiable, with the
    gradient computed by the backward recursion instead of autograd's graph.
    """
    check_inputs(emissions, mask, transitions)
    return _LogPartition.apply(emissions, mask, transitions, start, end)


def _forward_backward(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> tuple[_SortedBatch, Tensor, Tensor, Tensor, Tensor]:
    """Return the sorted batch, alpha, beta, incoming (T, B, C, sorted) and exp_tr (C, C)."""
    batch = _SortedBatch(emissions, mask)
    alpha, norms, exp_em, exp_tr, exp_end, end_norm, _ = _scaled_forward(
        batch, transitions, start, end
    )
    beta, incoming = _scaled_backward(batch, norms, exp_em, exp_tr, exp_end, end_norm)
    return batch, alpha, beta, incoming, exp_tr


@torch.no_grad()
def marginals(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """Return P(tag at t = c | sequence), shape (B, T, C); padded positions are all zero."""
    check_inputs(emissions, mask, transitions)
    batch, alpha, beta, _, _ = _forward_backward(emissions, mask, transitions, start, end)
    return batch.unsort((alpha * beta).transpose(0, 1))


@torch.no_grad()
def expected_counts(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> tuple[Tensor, Tensor]:
    """Return the marginals (B, T, C) and the expected transition counts (B, C, C).

    counts[b, i, j] is the expected number of steps t >= 1 with tag i at t - 1 and tag j
    at t, under the CRF distribution of sequence b: the sum over t of the pairwise
    marginals alpha[t-1, i] * exp(transitions[i, j]) * incoming[t, j]. Together with the
    marginals they are what `expected_score` needs (soft targets for distillation).
    """
    check_inputs(emissions, mask, transitions)
    batch, alpha, beta, incoming, exp_tr = _forward_backward(
        emissions, mask, transitions, start, end
    )
    counts = torch.einsum("tbi,tbj->bij", alpha[:-1], incoming[1:]) * exp_tr  # (B, C, C)
    return batch.unsort((alpha * beta).transpose(0, 1)), batch.unsort(counts)


def expected_score(
    emissions: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Tensor,
    end: Tensor,
    unary: Tensor,
    counts: Tensor,
) -> Tensor:
    """Return the expected path score of each sequence under a target distribution, (B,).

    The target is given by its marginals `unary` (B, T, C) and expected transition counts
    `counts` (B, C, C) (as `expected_counts` returns them, or one-hot ones of a gold path,
    for which this equals `sequence_score`). Linear in every score, so differentiable.
    """
    check_inputs(emissions, mask, transitions)
    weights = mask.to(emissions.dtype).unsqueeze(2)  # (B, T, 1)
    last = (mask.sum(dim=1) - 1).view(-1, 1, 1).expand(-1, 1, unary.size(2))  # (B, 1, C)
    score = (unary * weights * emissions).sum(dim=(1, 2))
    score = score + (counts * transitions).sum(dim=(1, 2)) + unary[:, 0] @ start
    return score + unary.gather(1, last).squeeze(1) @ end


def viterbi(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> tuple[Tensor, Tensor]:
    """Return the best tag path of each sequence, (B, T) long, and its score, (B,).

    Same recursion as `log_partition` with max in place of sum. The loop keeps only
    the running best scores, no back-pointers: tracing back, the best previous tag of
    the one tag on the path is recomputed from them (an argmax over C per step instead
    of storing C**2 candidates per step). Padded positions of a path hold 0.
    """
    check_inputs(emissions, mask, transitions)
    batch = _SortedBatch(emissions, mask)
    em = batch.emissions  # (T, B, C)
    length, size, num_tags = em.shape
    scores = torch.empty_like(em)  # (T, B, C): best score of a path ending in each tag
    torch.add(start.detach(), em[0], out=scores[0])
    transitions = transitions.detach()
    # candidates are laid out (C_prev, B, C_next): a max over the outermost axis is an
    # elementwise maximum of contiguous rows, 2-3x faster than reducing a middle axis
    candidates = em.new_empty(num_tags, size, num_tags)
    best = em.new_empty(size, num_tags)
    # Short-named views, as in `_scaled_forward`; writing sc fills scores.
    #   sc    scores       (T, B, C)           best path score ending in each tag at t
    #   e     em           (T, B, C)           the emissions (log space here, not exp)
    #   tr    transitions  (C, C)              (C_prev, C_next)
    #   cand  candidates   (C_prev, B, C_next) sc[t - 1] + tr, one slab per previous tag
    #   top   best         (B, C)              the max of cand over C_prev
    xp, (sc, e, tr, cand, top) = _array_module(scores, em, transitions, candidates, best)
    # np.amax goes through a Python wrapper that costs more than the reduction itself
    reduce_max = np.maximum.reduce if xp is np else torch.amax
    pairs = tr[:, None, :]  # (C_prev, 1, C_next)
    for t in range(1, length):
        n = batch.active[t]  # the first n rows of the sorted batch are still running at t
        if n == 0:
            break
        # (C_prev, n, 1) + (C_prev, 1, C_next) -> best over C_prev, plus the emission
        xp.add(sc[t - 1, :n].T[:, :, None], pairs, out=cand[:, :n])
        reduce_max(cand[:, :n], 0, out=top[:n])
        xp.add(top[:n], e[t, :n], out=sc[t, :n])
    rows = torch.arange(size, device=em.device)
    best_score, last_tag = (scores[batch.lengths - 1, rows] + end.detach()).max(dim=1)  # (B,)
    path = _backtrace(scores, transitions, last_tag, batch.active)
    return batch.unsort(path.t()), batch.unsort(best_score)


def _backtrace(scores: Tensor, transitions: Tensor, last_tag: Tensor, active: list[int]) -> Tensor:
    """Return the paths (T, B) long of a length-sorted batch from its running best scores.

    Row b starts at its own last step; positions past it stay 0. The argmax of
    scores[t - 1] + transitions[:, tag] repeats exactly the sums the forward loop
    maximised, so it finds the same best previous tag.
    """
    length, size = scores.shape[:2]
    path = torch.zeros(length, size, dtype=torch.long, device=scores.device)
    current = torch.zeros_like(last_tag)
    incoming = transitions.t().contiguous()  # (C_next, C_prev)
    # Short-named views, as in `_scaled_forward`; writing p and cur fills path and current.
    #   sc     scores    (T, B, C)        the forward loop's best scores
    #   inc    incoming  (C_next, C_prev) inc[tag]: the score of each previous tag -> tag
    #   first  last_tag  (B,)             each row's best tag at its own last step
    #   p      path      (T, B)           the result
    #   cur    current   (B,)             each row's tag at step t
    _, (sc, inc, first, p, cur) = _array_module(scores, incoming, last_tag, path, current)
    bounds = [*active, 0]
    for t in range(length - 1, -1, -1):
        # sorted batch: rows [:high] are running at t, rows [low:high] have their last token at t
        low, high = bounds[t + 1], bounds[t]
        cur[low:high] = first[low:high]  # rows whose last token is t
        p[t, :high] = cur[:high]
        if t > 0:
            cur[:high] = (sc[t - 1, :high] + inc[cur[:high]]).argmax(1)
    return path


def nbest(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor, k: int
) -> tuple[Tensor, Tensor]:
    """Return the k best distinct paths, (B, K, T) long, and their scores, (B, K), best first.

    List Viterbi: each tag keeps its k best partial paths. When a sequence has fewer
    than k paths of finite score, the missing ones have score -inf (and arbitrary tags).
    """
    check_inputs(emissions, mask, transitions)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    batch = _SortedBatch(emissions, mask)
    em = batch.emissions  # (T, B, C)
    length, size, num_tags = em.shape
    score = em.new_full((size, num_tags, k), float("-inf"))  # (B, C, K): rank r of each tag
    score[:, :, 0] = start + em[0]
    # back-pointers into the flattened (previous tag, previous rank) axis of size C * K
    history = em.new_zeros(length, size, num_tags, k, dtype=torch.long)
    history[:] = (torch.arange(num_tags, device=em.device) * k).view(1, 1, num_tags, 1)
    history += torch.arange(k, device=em.device)
    pairs = transitions.unsqueeze(1)  # (C_prev, 1, C_next)
    for t in range(1, length):
        n = batch.active[t]
        if n == 0:
            break
        # (n, C_prev, K, 1) + (C_prev, 1, C_next) -> (n, C_prev * K, C_next)
        candidates = (score[:n].unsqueeze(3) + pairs).reshape(n, num_tags * k, num_tags)
        top, where = candidates.topk(k, dim=1)  # (n, K, C_next)
        score[:n] = top.transpose(1, 2) + em[t, :n].unsqueeze(2)
        history[t, :n] = where.transpose(1, 2)
    final = (score + end.view(1, num_tags, 1)).reshape(size, num_tags * k)
    best_scores, pointer = final.topk(k, dim=1)  # (B, K) into the flattened (tag, rank) axis
    paths = torch.empty(size, k, length, dtype=torch.long, device=em.device)
    flat_history = history.reshape(length, size, num_tags * k)
    for t in range(length - 1, -1, -1):
        paths[:, :, t] = pointer // k
        if t > 0:
            pointer = flat_history[t].gather(1, pointer)
    return batch.unsort(paths), batch.unsort(best_scores)
