"""The test oracle for the CRF: every path of a short sequence enumerated, in float64.

Shared by the tests of `nerkit.crf.functional` and `nerkit.crf.scripted`, so both sets
of recursions are checked against the same brute force. (Imported as a plain module:
pytest puts this directory on sys.path, as it has no __init__.py; a package here
would be named `crf`, which pytorch-crf also installs.)
"""

from __future__ import annotations

import itertools
import math

import torch

# batches of ragged lengths: a lone length-1 sequence, one long one, mixed and equal ones
LENGTHS = [[1], [4], [4, 2, 1], [3, 3], [1, 4, 2, 3]]


def random_crf(gen: torch.Generator, num_tags: int, scale: float = 1.0):
    """Return float64 (transitions, start, end) drawn from `gen`."""
    return tuple(
        scale * torch.randn(*shape, generator=gen, dtype=torch.float64)
        for shape in [(num_tags, num_tags), (num_tags,), (num_tags,)]
    )


def brute_force_scores(emissions, transitions, start, end):
    """Return the score of each of the C**T paths of one unpadded sequence."""
    length, num_tags = emissions.shape
    return {
        path: float(
            start[path[0]]
            + end[path[-1]]
            + sum(emissions[t, tag] for t, tag in enumerate(path))
            + sum(transitions[a, b] for a, b in itertools.pairwise(path))
        )
        for path in itertools.product(range(num_tags), repeat=length)
    }


def brute_force_marginals(scores, num_tags):
    """Return P(tag at t = c), shape (length, C), from `brute_force_scores` of one sequence.

    Paths of score -inf (forbidden) get probability 0.
    """
    length = len(next(iter(scores)))
    finite = [score for score in scores.values() if score > float("-inf")]
    log_z = math.log(sum(map(math.exp, finite)))
    expected = torch.zeros(length, num_tags, dtype=torch.float64)
    for path, score in scores.items():
        for t, tag in enumerate(path):
            expected[t, tag] += math.exp(score - log_z)
    return expected


def make_batch(gen, lengths, num_tags, scale=1.0):
    """Return float64 emissions (B, T, C) drawn from `gen` and the mask of `lengths`."""
    shape = (len(lengths), max(lengths), num_tags)
    emissions = scale * torch.randn(*shape, generator=gen, dtype=torch.float64)
    mask = torch.arange(max(lengths)) < torch.tensor(lengths)[:, None]
    return emissions, mask
