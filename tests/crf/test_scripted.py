"""The TorchScript recursions against enumeration, `functional`, and their scripted selves."""

from __future__ import annotations

import itertools

import pytest
import torch
from oracle import LENGTHS, brute_force_marginals, brute_force_scores, make_batch, random_crf

from nerkit.crf import CRF, functional, scripted


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("num_tags", [1, 3])
def test_scripted_recursions_match_enumeration(gen, lengths, num_tags):
    params = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags)
    paths = scripted.viterbi_paths(emissions, mask, *params)
    probs = scripted.marginals(emissions, mask, *params)
    assert paths.shape == mask.shape and paths.dtype == torch.long
    for b, length in enumerate(lengths):
        scores = brute_force_scores(emissions[b, :length], *params)
        assert tuple(paths[b, :length].tolist()) == max(scores, key=scores.get)
        # past its end a path repeats its last real tag (the export contract)
        assert (paths[b, length:] == paths[b, length - 1]).all()
        torch.testing.assert_close(probs[b, :length], brute_force_marginals(scores, num_tags))
        assert not probs[b, length:].any()


def test_marginals_sum_to_one_on_real_tokens_only(gen):
    num_tags, lengths = 6, [9, 1, 5, 9, 2]
    params = random_crf(gen, num_tags, scale=3.0)
    emissions, mask = make_batch(gen, lengths, num_tags, scale=5.0)
    totals = scripted.marginals(emissions, mask, *params).sum(dim=2)  # (B, T)
    torch.testing.assert_close(totals, mask.to(torch.float64))


def test_scripted_equals_functional(gen):
    num_tags, lengths = 5, [12, 1, 7, 12, 3, 8]
    params = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags, scale=2.0)
    paths, _ = functional.viterbi(emissions, mask, *params)
    ours = scripted.viterbi_paths(emissions, mask, *params)
    assert torch.equal(ours[mask], paths[mask])
    torch.testing.assert_close(
        scripted.marginals(emissions, mask, *params),
        functional.marginals(emissions, mask, *params),
    )


def test_forbidden_transitions_are_never_chosen(gen):
    # finite -1e4 here, as CRF.finite_scores gives the export; -inf in functional
    num_tags, lengths = 3, [6, 4, 1, 5]
    transitions, start, end = random_crf(gen, num_tags)
    banned = torch.zeros(num_tags, num_tags, dtype=torch.bool)
    banned[0, 1] = banned[2, 2] = True  # 0 may not be followed by 1, nor 2 by 2
    emissions, mask = make_batch(gen, lengths, num_tags)
    emissions[:, :, 1] += 3.0
    emissions[:, :, 2] += 3.0  # the emissions want 1 and 2 everywhere, and 2 first
    emissions[:, 0, 2] += 5.0
    finite = transitions.masked_fill(banned, -1e4), start.clone(), end.clone()
    finite[1][2] = -1e4  # no sequence starts with 2
    infinite = [score.masked_fill(score == -1e4, float("-inf")) for score in finite]

    free = scripted.viterbi_paths(emissions, mask, transitions, start, end)
    assert (free[:, 0] == 2).any()  # without the bans they would be used: the test bites
    paths = scripted.viterbi_paths(emissions, mask, *finite)
    for b, length in enumerate(lengths):
        path = paths[b, :length].tolist()
        assert path[0] != 2
        assert not any(banned[a, c] for a, c in itertools.pairwise(path))
        scores = brute_force_scores(emissions[b, :length], *infinite)
        assert tuple(path) == max(scores, key=scores.get)
    probs = scripted.marginals(emissions, mask, *finite)
    assert not probs[:, 0, 2].any()  # exp(-1e4) is exactly 0
    torch.testing.assert_close(probs, functional.marginals(emissions, mask, *infinite))


# torch marks TorchScript deprecated; export uses it all the same (see nerkit/export.py)
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("lengths", [[1], [1, 1], [6, 2, 4], [3, 1, 3]])
@pytest.mark.parametrize("num_tags", [1, 4])
def test_torch_jit_script_gives_the_eager_results(gen, lengths, num_tags):
    params = random_crf(gen, num_tags)
    emissions, mask = make_batch(gen, lengths, num_tags)
    viterbi_paths = torch.jit.script(scripted.viterbi_paths)
    marginals = torch.jit.script(scripted.marginals)
    assert torch.equal(
        viterbi_paths(emissions, mask, *params), scripted.viterbi_paths(emissions, mask, *params)
    )
    torch.testing.assert_close(
        marginals(emissions, mask, *params),
        scripted.marginals(emissions, mask, *params),
        rtol=0,
        atol=0,
    )


def test_layer_scores_give_the_layers_results(gen):
    # what export does: raw scores for the paths, tempered ones for the probabilities
    num_tags, lengths = 4, [5, 2, 5]
    allowed = torch.ones(num_tags + 2, num_tags + 2, dtype=torch.bool)
    allowed[1, 3] = allowed[num_tags, 0] = allowed[2, num_tags + 1] = False
    crf = CRF(num_tags, allowed=allowed).double()
    crf.set_temperature(1.7)
    emissions, mask = make_batch(gen, lengths, num_tags)
    with torch.no_grad():
        paths = scripted.viterbi_paths(emissions, mask, *crf.finite_scores())
        tempered = crf.finite_scores(tempered=True)
        probs = scripted.marginals(emissions / crf.temperature, mask, *tempered)
    assert [row[:n] for row, n in zip(paths.tolist(), lengths)] == crf.decode(emissions, mask)
    torch.testing.assert_close(probs, crf.marginals(emissions, mask))
