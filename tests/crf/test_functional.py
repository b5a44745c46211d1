"""The CRF dynamic programs against brute-force enumeration of every path, in float64."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from oracle import LENGTHS, brute_force_marginals, brute_force_scores, make_batch, random_crf

from nerkit.crf import functional


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("num_tags", [1, 3])
def test_dynamic_programs_match_enumeration(gen, lengths, num_tags):
    transitions, start, end = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags)
    tags = torch.randint(num_tags, mask.shape, generator=gen)

    log_z = functional.log_partition(emissions, mask, transitions, start, end)
    gold = functional.sequence_score(emissions, tags, mask, transitions, start, end)
    paths, best = functional.viterbi(emissions, mask, transitions, start, end)
    probs = functional.marginals(emissions, mask, transitions, start, end)

    for b, length in enumerate(lengths):
        scores = brute_force_scores(emissions[b, :length], transitions, start, end)
        total = math.log(sum(map(math.exp, scores.values())))
        assert log_z[b].item() == pytest.approx(total, rel=1e-10)
        assert gold[b].item() == pytest.approx(scores[tuple(tags[b, :length].tolist())])
        argmax = max(scores, key=scores.get)
        assert tuple(paths[b, :length].tolist()) == argmax
        assert best[b].item() == pytest.approx(scores[argmax])
        torch.testing.assert_close(probs[b, :length], brute_force_marginals(scores, num_tags))
        assert not probs[b, length:].any()


@pytest.mark.parametrize("lengths", [[3], [3, 1, 2], [2, 2]])
@pytest.mark.parametrize("k", [1, 2, 5, 40])
def test_nbest_matches_enumeration_in_order(gen, lengths, k):
    num_tags = 3
    transitions, start, end = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags)
    paths, scores = functional.nbest(emissions, mask, transitions, start, end, k)
    for b, length in enumerate(lengths):
        ranked = sorted(brute_force_scores(emissions[b, :length], transitions, start, end).items(),
                        key=lambda item: -item[1])[:k]  # fmt: skip
        found = [
            (tuple(paths[b, r, :length].tolist()), scores[b, r].item())
            for r in range(k)
            if scores[b, r] > float("-inf")
        ]
        assert len(found) == len(ranked)  # fewer than k paths exist when C**length < k
        assert [s for _, s in found] == pytest.approx([s for _, s in ranked])
        assert len({p for p, _ in found}) == len(found)  # distinct
        for path, score in found:  # each path really has the score reported for it
            full = brute_force_scores(emissions[b, :length], transitions, start, end)
            assert full[path] == pytest.approx(score)


def test_forbidden_transitions_get_zero_probability(gen):
    num_tags = 3
    transitions, start, end = random_crf(gen, num_tags)
    transitions[0, 1] = float("-inf")  # tag 0 may never be followed by tag 1
    start[2] = float("-inf")
    emissions, mask = make_batch(gen, [4, 3], num_tags, scale=3.0)
    log_z = functional.log_partition(emissions, mask, transitions, start, end)
    paths, _ = functional.viterbi(emissions, mask, transitions, start, end)
    nbest_paths, nbest_scores = functional.nbest(emissions, mask, transitions, start, end, 50)
    for b, length in enumerate([4, 3]):
        scores = {
            path: score
            for path, score in brute_force_scores(
                emissions[b, :length], transitions, start, end
            ).items()
            if score > float("-inf")
        }
        assert log_z[b].item() == pytest.approx(math.log(sum(map(math.exp, scores.values()))))
        assert tuple(paths[b, :length].tolist()) in scores
        kept = [
            tuple(nbest_paths[b, r, :length].tolist())
            for r in range(50)
            if nbest_scores[b, r] > float("-inf")
        ]
        assert set(kept) == set(sorted(scores, key=scores.get, reverse=True)[:50])


def test_all_zero_scores_give_log_z_of_t_log_c():
    num_tags, lengths = 5, [7, 3]
    zeros = torch.zeros(num_tags, num_tags), torch.zeros(num_tags), torch.zeros(num_tags)
    mask = torch.arange(7) < torch.tensor(lengths)[:, None]
    log_z = functional.log_partition(torch.zeros(2, 7, num_tags), mask, *zeros)
    expected = torch.tensor([7 * math.log(num_tags), 3 * math.log(num_tags)])
    torch.testing.assert_close(log_z, expected)


def test_gradient_of_log_z_matches_autograd_of_a_plain_forward(gen):
    # the hand-written backward against autograd through the textbook log-space recursion
    num_tags, lengths = 4, [5, 2, 4]
    params = [p.requires_grad_() for p in random_crf(gen, num_tags)]
    emissions, mask = make_batch(gen, lengths, num_tags)
    emissions.requires_grad_()
    weights = torch.randn(len(lengths), generator=gen, dtype=torch.float64)

    (functional.log_partition(emissions, mask, *params) * weights).sum().backward()
    ours = [emissions.grad.clone(), *(p.grad.clone() for p in params)]
    for tensor in [emissions, *params]:
        tensor.grad = None

    transitions, start, end = params
    score = start + emissions[:, 0]
    for t in range(1, emissions.size(1)):
        paths = score.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1)
        score = torch.where(mask[:, t, None], paths.logsumexp(dim=1), score)
    ((score + end).logsumexp(dim=1) * weights).sum().backward()
    reference = [emissions.grad, *(p.grad for p in params)]
    for mine, theirs in zip(ours, reference):
        torch.testing.assert_close(mine, theirs)


def test_padding_does_not_change_results(gen):
    num_tags = 4
    params = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, [5, 3], num_tags)
    padded = torch.cat(
        [emissions, torch.randn(2, 4, num_tags, generator=gen, dtype=torch.float64)], 1
    )
    padded_mask = torch.cat([mask, torch.zeros(2, 4, dtype=torch.bool)], 1)
    torch.testing.assert_close(
        functional.log_partition(emissions, mask, *params),
        functional.log_partition(padded, padded_mask, *params),
    )
    short, _ = functional.viterbi(emissions, mask, *params)
    long, _ = functional.viterbi(padded, padded_mask, *params)
    assert torch.equal(short[mask], long[padded_mask])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_long_sequences_with_many_tags_stay_finite(gen, dtype):
    num_tags, length = 100, 2500
    params = [(10 * p).to(dtype).requires_grad_() for p in random_crf(gen, num_tags)]
    emissions = (20 * torch.randn(2, length, num_tags, generator=gen)).to(dtype).requires_grad_()
    mask = torch.arange(length) < torch.tensor([length, 1000])[:, None]
    log_z = functional.log_partition(emissions, mask, *params)
    log_z.sum().backward()
    assert torch.isfinite(log_z).all()
    for tensor in [emissions, *params]:
        assert torch.isfinite(tensor.grad).all()
    # the emission gradient is the marginal distribution: it sums to 1 at every real token
    torch.testing.assert_close(
        emissions.grad.sum(dim=2)[mask], torch.ones(int(mask.sum()), dtype=dtype),
        atol=1e-4, rtol=0,
    )  # fmt: skip


def test_float32_agrees_with_float64(gen):
    num_tags = 7
    params = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, [50, 30, 11], num_tags, scale=5.0)
    exact = functional.log_partition(emissions, mask, *params)
    single = functional.log_partition(emissions.float(), mask, *(p.float() for p in params))
    torch.testing.assert_close(single.double(), exact, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    ("emissions", "mask", "message"),
    [
        (torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool), r"shape \(batch, length, tags\)"),
        (torch.zeros(1, 2, 5), torch.ones(1, 2, dtype=torch.bool), "has 5 tag scores per token but the CRF has 3 tags"),  # noqa: E501
        (torch.zeros(1, 2, 3), torch.ones(1, 3, dtype=torch.bool), r"mask has shape \(1, 3\)"),
        (torch.zeros(1, 2, 3), torch.ones(1, 2), "mask must be a bool tensor"),
        (torch.zeros(2, 2, 3), torch.tensor([[True, True], [False, False]]), r"rows \[1\] have mask\[:, 0\] == False"),  # noqa: E501
        (torch.zeros(1, 3, 3), torch.tensor([[True, False, True]]), r"left-aligned .* rows \[0\]"),
        (torch.zeros(1, 0, 3), torch.ones(1, 0, dtype=torch.bool), "at least one token"),
    ],
)  # fmt: skip
def test_bad_inputs_are_reported(emissions, mask, message):
    params = torch.zeros(3, 3), torch.zeros(3), torch.zeros(3)
    with pytest.raises(ValueError, match=message):
        functional.log_partition(emissions, mask, *params)
    with pytest.raises(ValueError, match=message):
        functional.viterbi(emissions, mask, *params)


def test_torch_recursions_equal_numpy_recursions(gen, monkeypatch):
    # the same loops run on tensors with torch off the CPU and during export; force that path
    num_tags, lengths = 4, [6, 1, 3, 6]
    params = [p.requires_grad_() for p in random_crf(gen, num_tags)]
    emissions, mask = make_batch(gen, lengths, num_tags)
    emissions.requires_grad_()

    def run():
        log_z = functional.log_partition(emissions, mask, *params)
        grads = torch.autograd.grad(log_z.sum(), [emissions, *params])
        paths, best = functional.viterbi(emissions, mask, *params)
        probs = functional.marginals(emissions, mask, *params)
        return [log_z, *grads, paths, best, probs]

    fast = run()
    monkeypatch.setattr(functional, "_array_module", lambda *tensors: (torch, list(tensors)))
    for mine, theirs in zip(fast, run()):
        torch.testing.assert_close(mine, theirs)


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("num_tags", [1, 3])
def test_expected_counts_match_enumeration(gen, lengths, num_tags):
    transitions, start, end = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags)
    unary, counts = functional.expected_counts(emissions, mask, transitions, start, end)
    for b, length in enumerate(lengths):
        scores = brute_force_scores(emissions[b, :length], transitions, start, end)
        log_z = math.log(sum(map(math.exp, scores.values())))
        expected_unary = torch.zeros(max(lengths), num_tags, dtype=torch.float64)
        expected_counts = torch.zeros(num_tags, num_tags, dtype=torch.float64)
        for path, score in scores.items():
            p = math.exp(score - log_z)
            for t, tag in enumerate(path):
                expected_unary[t, tag] += p
            for a, c in itertools.pairwise(path):
                expected_counts[a, c] += p
        assert torch.allclose(unary[b], expected_unary, atol=1e-10)
        assert torch.allclose(counts[b], expected_counts, atol=1e-10)


@pytest.mark.parametrize("lengths", LENGTHS)
def test_expected_score_is_the_mean_path_score(gen, lengths):
    num_tags = 3
    transitions, start, end = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags)
    # the target: another CRF's distribution; the scores: this one's
    other = random_crf(gen, num_tags)
    unary, counts = functional.expected_counts(emissions.flip(2), mask, *other)
    expected = functional.expected_score(emissions, mask, transitions, start, end, unary, counts)
    for b, length in enumerate(lengths):
        target = brute_force_scores(emissions[b, :length].flip(1), *other)
        log_z = math.log(sum(map(math.exp, target.values())))
        mine = brute_force_scores(emissions[b, :length], transitions, start, end)
        mean = sum(math.exp(target[path] - log_z) * mine[path] for path in mine)
        assert expected[b].item() == pytest.approx(mean, rel=1e-9, abs=1e-9)


def test_expected_score_of_a_one_hot_target_is_the_path_score(gen):
    num_tags, lengths = 4, [5, 3, 1]
    transitions, start, end = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags)
    tags = torch.randint(num_tags, mask.shape, generator=gen)
    unary = torch.nn.functional.one_hot(tags, num_tags).to(torch.float64) * mask.unsqueeze(2)
    counts = torch.zeros(len(lengths), num_tags, num_tags, dtype=torch.float64)
    for b, length in enumerate(lengths):
        for a, c in itertools.pairwise(tags[b, :length].tolist()):
            counts[b, a, c] += 1
    expected = functional.expected_score(emissions, mask, transitions, start, end, unary, counts)
    gold = functional.sequence_score(emissions, tags, mask, transitions, start, end)
    assert torch.allclose(expected, gold)
