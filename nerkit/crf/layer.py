"""The CRF module: owns the learned transition scores and the constraint mask.

All computation is in `nerkit.crf.functional`; this class only assembles the
effective scores (learned scores with forbidden transitions removed) and turns
tensors into the list shapes of the public contract.

Shapes: B batch, T padded length, C tags, K best paths (see `functional`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nerkit.crf import functional  # not "as F": F conventionally means torch.nn.functional

_FORBIDDEN = -1e4  # large but finite: the gold score of a forbidden path stays finite


class CRF(nn.Module):
    """Linear-chain CRF over `num_tags` tags.

    Args:
        num_tags: Size of the tag set, C.
        allowed: Optional (C + 2, C + 2) bool matrix (tensor or nested lists) of permitted
            transitions; row/column C is the sequence start, C + 1 the end, so
            ``allowed[C, j]`` says whether a sequence may start with tag j and
            ``allowed[i, C + 1]`` whether it may end with tag i. Build it with
            `nerkit.schemes.transition_mask`.

    Constraint policy: forbidden transitions are removed in training and decoding alike.
    They have probability exactly zero in `log_partition`, `nll` and `marginals`, and
    never appear in `decode` or `decode_nbest`; a gold path that uses one (a data error)
    gets a large finite penalty (-1e4) instead of an infinite loss.

    Temperature: the buffer `temperature` (T, default 1, saved in the state dict; a state
    dict without it loads as T = 1) calibrates the reported probabilities. `marginals`,
    `log_partition` and the scores of `decode_nbest` are those of the tempered distribution
    p_T(y | x) proportional to exp(score(y) / T): emissions and transitions divided by T.
    Dividing every path score by the same T > 0 keeps their order, so `decode` and the
    paths of `decode_nbest` do not change; `nll` (the training objective) ignores T.
    Fit T after training with `nerkit.tasks.tagging.calibration.fit_temperature`.

    Why training too: on Resume, constraining training and decoding beat constraining
    decoding only, which beat no constraints; the setup and figures are in docs/crf.md.
    """

    def __init__(self, num_tags: int, allowed: Tensor | list[list[bool]] | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be at least 1, got {num_tags!r}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        self.end_transitions = nn.Parameter(torch.empty(num_tags))
        nn.init.uniform_(self.transitions, -0.1, 0.1)
        nn.init.uniform_(self.start_transitions, -0.1, 0.1)
        nn.init.uniform_(self.end_transitions, -0.1, 0.1)
        if allowed is None:
            allowed = torch.ones(num_tags + 2, num_tags + 2, dtype=torch.bool)
        allowed = torch.as_tensor(allowed, dtype=torch.bool)
        if allowed.shape != (num_tags + 2, num_tags + 2):
            raise ValueError(
                f"allowed must have shape ({num_tags + 2}, {num_tags + 2}) for {num_tags} tags "
                f"(tags plus start and end), got {tuple(allowed.shape)}"
            )
        if not bool(allowed[num_tags, :num_tags].any()) or not bool(
            allowed[:num_tags, num_tags + 1].any()
        ):
            raise ValueError(
                "allowed forbids every start tag or every end tag: no path is possible"
            )
        self.register_buffer("allowed", allowed)
        self.register_buffer("temperature", torch.tensor(1.0))
        self.register_load_state_dict_pre_hook(_default_temperature)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"

    def _scores(self, forbidden: float, tempered: bool = False) -> tuple[Tensor, Tensor, Tensor]:
        """Return (transitions, start, end) with forbidden entries set to `forbidden`.

        `tempered` divides the learned scores by the temperature first (forbidden entries
        stay exactly `forbidden`).
        """
        c = self.num_tags
        allowed = self.allowed
        scale = 1.0 / self.temperature if tempered else 1.0
        return (
            (self.transitions * scale).masked_fill(~allowed[:c, :c], forbidden),
            (self.start_transitions * scale).masked_fill(~allowed[c, :c], forbidden),
            (self.end_transitions * scale).masked_fill(~allowed[:c, c + 1], forbidden),
        )

    def finite_scores(self, *, tempered: bool = False) -> tuple[Tensor, Tensor, Tensor]:
        """Return (transitions, start, end) with forbidden entries at the finite -1e4.

        For computations where -inf does harm: the gold score of a path that uses a
        forbidden transition (it should stay finite), and graphs exported to ONNX, whose
        log-sum-exp turns -inf - -inf into NaN (`nerkit.crf.scripted`). `tempered` divides
        the learned scores by the temperature T first, as `marginals` does; forbidden
        entries stay exactly -1e4. The tensors carry gradients: detach them to store them.
        """
        return self._scores(_FORBIDDEN, tempered=tempered)

    def set_temperature(self, temperature: float) -> None:
        """Set the calibration temperature T > 0 of the reported probabilities."""
        if not temperature > 0 or temperature == float("inf"):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        self.temperature.fill_(float(temperature))

    def nll(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Return the negative log-likelihood of the gold tags, shape (B,); the caller reduces."""
        log_z = functional.log_partition(emissions, mask, *self._scores(float("-inf")))
        gold = functional.sequence_score(emissions, tags, mask, *self.finite_scores())
        return log_z - gold

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Return log Z of each sequence at the temperature T, shape (B,)."""
        return functional.log_partition(
            emissions / self.temperature, mask, *self._scores(float("-inf"), tempered=True)
        )

    def soft_nll(self, emissions: Tensor, mask: Tensor, unary: Tensor, counts: Tensor) -> Tensor:
        """Return the cross-entropy of a target distribution over paths against the CRF, (B,).

        The target is given by its marginals `unary` (B, T, C) and expected transition
        counts `counts` (B, C, C): log Z minus the target's expected path score. For the
        one-hot target of a gold path this is `nll`; for a teacher's `expected_counts` it is
        the distillation loss (its gradient is the CRF's marginals minus the target's).
        The caller reduces.
        """
        log_z = functional.log_partition(emissions, mask, *self._scores(float("-inf")))
        scores = self.finite_scores()
        return log_z - functional.expected_score(emissions, mask, *scores, unary, counts)

    @torch.no_grad()
    def expected_counts(
        self, emissions: Tensor, mask: Tensor, temperature: float = 1.0
    ) -> tuple[Tensor, Tensor]:
        """Return the marginals (B, T, C) and expected transition counts (B, C, C).

        Of the distribution with every score divided by `temperature` (a distillation
        temperature > 0; the calibration temperature is not applied): a teacher's soft
        targets for `soft_nll`.
        """
        if not 0 < temperature < float("inf"):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        scores = [score / temperature for score in self._scores(float("-inf"))]
        return functional.expected_counts(emissions / temperature, mask, *scores)

    @torch.no_grad()
    def decode_tensor(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Return the best paths (B, T) long, padded with 0, and their scores (B,)."""
        return functional.viterbi(emissions, mask, *self._scores(float("-inf")))

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Return the best tag path of each sequence, each as long as its mask."""
        paths, _ = self.decode_tensor(emissions, mask)
        return [row[:length] for row, length in zip(paths.tolist(), mask.sum(dim=1).tolist())]

    @torch.no_grad()
    def decode_nbest(
        self, emissions: Tensor, mask: Tensor, k: int
    ) -> list[list[tuple[list[int], float]]]:
        """Return up to k best distinct paths of each sequence with their scores, best first.

        The scores are divided by the temperature T (the paths are the same for any T), so
        exp(score - log_partition) is a path's probability at T.
        """
        paths, scores = functional.nbest(emissions, mask, *self._scores(float("-inf")), k=k)
        scores = scores / self.temperature
        result = []
        for b, length in enumerate(mask.sum(dim=1).tolist()):
            result.append(
                [
                    (paths[b, r, :length].tolist(), float(scores[b, r]))
                    for r in range(paths.size(1))
                    if scores[b, r] > float("-inf")
                ]
            )
        return result

    @torch.no_grad()
    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """Return posterior tag probabilities P_T(y_t = c | x), shape (B, T, C); zero on padding."""
        return functional.marginals(
            emissions / self.temperature, mask, *self._scores(float("-inf"), tempered=True)
        )


def _default_temperature(
    module: nn.Module, state_dict: dict[str, Tensor], prefix: str, *args: object
) -> None:
    """Give a state dict saved before temperatures existed the neutral T = 1."""
    state_dict.setdefault(prefix + "temperature", torch.tensor(1.0))
