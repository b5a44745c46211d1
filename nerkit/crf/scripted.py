"""TorchScript-compatible CRF recursions, for graphs exported to ONNX.

Why these exist beside `functional`: the recursions there are fast because they run
per-step loops on NumPy views, slice a length-sorted batch by `active[t]` Python ints
and write into preallocated buffers; none of that survives `torch.jit.script`. The two
functions here are the textbook log-space recursions written with torch ops only
(masked `torch.where` steps over the full padded batch, lists of per-step tensors), so
`torch.jit.script` can compile them and the TorchScript-based ONNX exporter turns their
loops over the dynamic length T into ONNX `Loop` nodes. They are slower than
`functional` in eager mode and are not meant for training or Python-side decoding.

Nothing here validates its inputs (`functional.check_inputs` is not scriptable): the
caller, normally `nerkit.export`, passes tensors that follow the conventions below.
Scores must be finite: use `CRF.finite_scores`, which gives forbidden transitions -1e4
rather than -inf (exp(-1e4) is 0 in float32, but -inf - -inf is NaN inside ONNX's
log-sum-exp).

Shapes (batch-first, as in `functional`):
    B batch size, T padded length, C number of tags
    emissions    (B, T, C) float  unnormalised score of each tag at each token
    mask         (B, T)    bool   True on real tokens; left-aligned, mask[:, 0] all True
    transitions  (C, C)    float  transitions[i, j] scores tag i followed by tag j
    start, end   (C,)      float  score of a sequence starting / ending in a tag
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["marginals", "viterbi_paths"]


def viterbi_paths(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """Return the best path (B, T) of each sequence; padded steps repeat the last real tag.

    The same paths as `functional.viterbi` on the real tokens (up to ties), but padded
    positions hold the last real tag instead of 0, and no score is returned.
    """
    batch, length, num_tags = emissions.size(0), emissions.size(1), emissions.size(2)
    score = start.unsqueeze(0) + emissions[:, 0]  # (B, C)
    identity = torch.arange(num_tags).unsqueeze(0).expand(batch, num_tags)
    history = [identity]  # per step (B, C): best previous tag; step 0 is a placeholder
    for t in range(1, length):
        candidates = score.unsqueeze(2) + transitions.unsqueeze(0)  # (B, C_prev, C_next)
        best, previous = candidates.max(dim=1)
        step = mask[:, t].unsqueeze(1)  # (B, 1)
        score = torch.where(step, best + emissions[:, t], score)
        # a padded step points every tag to itself, so the trace-back walks through it
        history.append(torch.where(step, previous, identity))
    current = (score + end.unsqueeze(0)).argmax(dim=1)  # (B,)
    backward = [current]
    # trace back: k = 0 .. T-2 visits t = T-1 .. 1
    for k in range(length - 1):
        t = length - 1 - k
        current = history[t].gather(1, current.unsqueeze(1)).squeeze(1)
        backward.append(current)
    return torch.stack(backward, dim=1).flip([1])


def marginals(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """Return P(tag at t = c | sequence), shape (B, T, C); padded positions are all zero.

    Forward-backward in log space: alpha[t] is the log-sum of the scores of the prefixes
    ending in each tag at t (emission at t included), beta[t] that of the suffixes after
    t (end score included), so exp(alpha + beta - log Z) is the marginal.
    """
    length = emissions.size(1)
    alpha = start.unsqueeze(0) + emissions[:, 0]  # (B, C)
    alphas = [alpha]
    for t in range(1, length):
        # (B, C_prev, 1) + (1, C_prev, C_next) -> log-sum over C_prev
        step = torch.logsumexp(alpha.unsqueeze(2) + transitions.unsqueeze(0), dim=1)
        # a padded step carries alpha over unchanged: alpha there is the row's final alpha
        alpha = torch.where(mask[:, t].unsqueeze(1), step + emissions[:, t], alpha)
        alphas.append(alpha)
    log_z = torch.logsumexp(alpha + end.unsqueeze(0), dim=1)  # (B,)
    final = end.unsqueeze(0).expand_as(alpha)  # (B, C): beta at a row's last real step
    beta = final
    betas = [beta]
    # k = 0 .. T-2 visits t = T-2 .. 0
    for k in range(length - 1):
        t = length - 2 - k
        ahead = (emissions[:, t + 1] + beta).unsqueeze(1)  # (B, 1, C_next)
        step = torch.logsumexp(transitions.unsqueeze(0) + ahead, dim=2)  # (B, C)
        # at or past a row's last real step (t + 1 padded) beta restarts from the end scores
        beta = torch.where(mask[:, t + 1].unsqueeze(1), step, final)
        betas.append(beta)
    forward_scores = torch.stack(alphas, dim=1)  # (B, T, C)
    backward_scores = torch.stack(betas, dim=1).flip([1])  # (B, T, C)
    probabilities = torch.exp(forward_scores + backward_scores - log_z.view(-1, 1, 1))
    return probabilities * mask.unsqueeze(2).to(probabilities.dtype)
