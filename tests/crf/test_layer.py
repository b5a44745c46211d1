"""The CRF module: contract shapes, constraints, gradients, and agreement with pytorch-crf."""

from __future__ import annotations

import itertools

import pytest
import torch

from nerkit.crf import CRF
from nerkit.schemes import Scheme, tag_inventory, transition_mask, violations


def lengths_mask(lengths, total=None):
    total = total or max(lengths)
    return torch.arange(total) < torch.tensor(lengths)[:, None]


def test_nll_is_non_negative_and_every_parameter_gets_a_gradient(gen):
    crf = CRF(5)
    emissions = torch.randn(3, 6, 5, generator=gen, requires_grad=True)
    mask = lengths_mask([6, 2, 4])
    tags = torch.randint(5, (3, 6), generator=gen)
    nll = crf.nll(emissions, tags, mask)
    assert nll.shape == (3,) and (nll >= 0).all()
    nll.sum().backward()
    for name, parameter in [("emissions", emissions), *crf.named_parameters()]:
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_decode_returns_lists_as_long_as_each_mask(gen):
    crf = CRF(4)
    emissions = torch.randn(3, 5, 4, generator=gen)
    paths = crf.decode(emissions, lengths_mask([5, 1, 3]))
    assert [len(p) for p in paths] == [5, 1, 3]
    assert all(isinstance(tag, int) for path in paths for tag in path)


def test_constraints_are_never_violated_by_decoding(gen):
    # 0 = O, 1 = B, 2 = I: I may only follow B or I, and may not start a sequence
    allowed = torch.ones(5, 5, dtype=torch.bool)
    allowed[0, 2] = False
    allowed[3, 2] = False  # START -> I
    crf = CRF(3, allowed=allowed)
    emissions = torch.zeros(8, 10, 3)
    emissions[:, :, 2] = 5.0  # the emissions want I everywhere
    emissions += torch.randn(8, 10, 3, generator=gen)
    mask = lengths_mask([10, 9, 1, 5, 7, 2, 10, 3])

    def ok(path):
        return path[0] != 2 and all(not (a == 0 and b == 2) for a, b in itertools.pairwise(path))

    assert all(ok(path) for path in crf.decode(emissions, mask))
    for candidates in crf.decode_nbest(emissions, mask, k=20):
        assert candidates and all(ok(path) for path, _ in candidates)
    probabilities = crf.marginals(emissions, mask)
    assert probabilities[:, 0, 2].abs().max() == 0  # I can never be first
    torch.testing.assert_close(probabilities.sum(2)[mask], torch.ones(int(mask.sum())))


def test_decode_nbest_first_path_is_the_viterbi_path(gen):
    crf = CRF(4)
    emissions = torch.randn(4, 6, 4, generator=gen)
    mask = lengths_mask([6, 3, 1, 5])
    best = crf.decode(emissions, mask)
    nbest = crf.decode_nbest(emissions, mask, k=100)
    assert [candidates[0][0] for candidates in nbest] == best
    assert len(nbest[2]) == 4  # a one-token sequence has only C paths
    for candidates in nbest:
        scores = [score for _, score in candidates]
        assert scores == sorted(scores, reverse=True)


def test_bad_allowed_shape_is_reported():
    with pytest.raises(ValueError, match=r"allowed must have shape \(5, 5\) for 3 tags"):
        CRF(3, allowed=torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="num_tags must be at least 1"):
        CRF(0)


def test_tag_count_mismatch_names_both_numbers(gen):
    emissions = torch.randn(1, 2, 5, generator=gen)
    with pytest.raises(ValueError, match="has 5 tag scores per token but the CRF has 3 tags"):
        CRF(num_tags=3).decode(emissions, torch.ones(1, 2, dtype=torch.bool))


def test_state_dict_round_trip_keeps_constraints():
    allowed = torch.ones(4, 4, dtype=torch.bool)
    allowed[0, 1] = False
    crf = CRF(2, allowed=allowed)
    clone = CRF(2)
    clone.load_state_dict(crf.state_dict())
    assert torch.equal(clone.allowed, allowed)


@pytest.mark.parametrize(("batch", "length", "num_tags"), [(1, 7, 3), (16, 20, 7), (5, 50, 13)])
def test_agrees_with_pytorch_crf(gen, batch, length, num_tags):
    torchcrf = pytest.importorskip("torchcrf")
    ours, theirs = CRF(num_tags), torchcrf.CRF(num_tags, batch_first=True)
    theirs.load_state_dict(ours.state_dict(), strict=False)
    for name in ["transitions", "start_transitions", "end_transitions"]:
        getattr(theirs, name).data.copy_(getattr(ours, name).data)
    emissions = 3 * torch.randn(batch, length, num_tags, generator=gen)
    lengths = torch.randint(1, length + 1, (batch,), generator=gen).tolist()
    lengths[0] = length
    mask = lengths_mask(lengths)
    tags = torch.randint(num_tags, (batch, length), generator=gen)
    expected = -theirs(emissions, tags, mask, reduction="none")
    torch.testing.assert_close(ours.nll(emissions, tags, mask), expected, rtol=1e-4, atol=1e-4)
    assert ours.decode(emissions, mask) == theirs.decode(emissions, mask)


@pytest.mark.parametrize("scheme", list(Scheme))
def test_scheme_constrained_decoding_never_produces_a_violation(gen, scheme):
    tags = tag_inventory(["LOC", "PER"], scheme)
    crf = CRF(len(tags), allowed=transition_mask(tags, scheme))
    emissions = 4 * torch.randn(16, 12, len(tags), generator=gen)  # arbitrary, unconstrained scores
    mask = lengths_mask(torch.randint(1, 13, (16,), generator=gen).tolist(), total=12)
    for path in crf.decode(emissions, mask):
        assert violations([tags[i] for i in path], scheme) == []
    for candidates in crf.decode_nbest(emissions[:4], mask[:4], k=100):
        for path, _ in candidates:
            assert violations([tags[i] for i in path], scheme) == []


def test_decode_nbest_handles_k_of_100_on_long_sequences(gen):
    crf = CRF(7)
    emissions = torch.randn(3, 60, 7, generator=gen)
    mask = lengths_mask([60, 45, 2])
    nbest = crf.decode_nbest(emissions, mask, k=100)
    assert [len(c) for c in nbest] == [100, 100, 49]
    for candidates in nbest:
        paths = [tuple(p) for p, _ in candidates]
        assert len(set(paths)) == len(paths)
        scores = [s for _, s in candidates]
        assert scores == sorted(scores, reverse=True)


def _one_hot_target(tags, mask, num_tags):
    unary = torch.nn.functional.one_hot(tags, num_tags).float() * mask.unsqueeze(2)
    counts = torch.zeros(tags.size(0), num_tags, num_tags)
    for b, length in enumerate(mask.sum(dim=1).tolist()):
        for a, c in itertools.pairwise(tags[b, :length].tolist()):
            counts[b, a, c] += 1
    return unary, counts


def test_soft_nll_of_a_one_hot_target_is_the_nll(gen):
    allowed = transition_mask(["O", "B-X", "I-X"], Scheme.BIO)
    crf = CRF(3, allowed=torch.tensor(allowed))
    emissions = torch.randn(3, 6, 3, generator=gen)
    mask = lengths_mask([6, 2, 4])
    tags = torch.tensor([[0, 1, 2, 2, 0, 1], [1, 2, 0, 0, 0, 0], [0, 0, 2, 0, 0, 0]])  # row 3: O->I
    soft = crf.soft_nll(emissions, mask, *_one_hot_target(tags, mask, 3))
    assert torch.allclose(soft, crf.nll(emissions, tags, mask))


def test_soft_nll_gradient_is_the_crf_marginals_minus_the_target(gen):
    # d/d emissions of log Z - E_q[score] = p(tag at t) - q(tag at t): distillation pulls the
    # student's marginals onto the teacher's.
    crf, teacher = CRF(4), CRF(4)
    mask = lengths_mask([5, 3])
    emissions = torch.randn(2, 5, 4, generator=gen, requires_grad=True)
    unary, counts = teacher.expected_counts(torch.randn(2, 5, 4, generator=gen), mask)
    crf.soft_nll(emissions, mask, unary, counts).sum().backward()
    expected = crf.marginals(emissions.detach(), mask) - unary
    assert torch.allclose(emissions.grad, expected, atol=1e-5)
    for name, parameter in crf.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_soft_nll_is_smallest_at_the_target_itself(gen):
    # the cross-entropy H(q, p) >= H(q, q): a CRF scored against its own distribution
    # cannot do better by moving its emissions
    crf = CRF(3)
    mask = lengths_mask([4, 2])
    emissions = torch.randn(2, 4, 3, generator=gen)
    target = crf.expected_counts(emissions, mask)
    own = crf.soft_nll(emissions, mask, *target)
    for _ in range(5):
        moved = emissions + 0.5 * torch.randn(2, 4, 3, generator=gen)
        assert (crf.soft_nll(moved, mask, *target) >= own - 1e-5).all()


def test_expected_counts_temperature_flattens_the_distribution(gen):
    crf = CRF(3)
    mask = lengths_mask([5])
    emissions = 3 * torch.randn(1, 5, 3, generator=gen)
    sharp, _ = crf.expected_counts(emissions, mask)
    flat, _ = crf.expected_counts(emissions, mask, temperature=4.0)
    assert flat.max() < sharp.max()
    assert torch.allclose(flat.sum(dim=2), torch.ones(1, 5))
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got 0"):
        crf.expected_counts(emissions, mask, temperature=0)


def test_finite_scores_put_minus_1e4_on_forbidden_entries_only():
    num_tags = 3
    allowed = torch.ones(num_tags + 2, num_tags + 2, dtype=torch.bool)
    allowed[0, 2] = allowed[num_tags, 1] = allowed[2, num_tags + 1] = False
    crf = CRF(num_tags, allowed=allowed)
    crf.set_temperature(2.0)
    learned = crf.transitions, crf.start_transitions, crf.end_transitions
    forbidden = allowed[:3, :3], allowed[3, :3], allowed[:3, 4]
    forbidden = [~entries for entries in forbidden]
    for tempered, scale in [(False, 1.0), (True, 0.5)]:
        for score, raw, banned in zip(crf.finite_scores(tempered=tempered), learned, forbidden):
            assert (score[banned] == -1e4).all()
            torch.testing.assert_close(score[~banned], raw[~banned] * scale)
