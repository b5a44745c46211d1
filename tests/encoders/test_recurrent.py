"""BiRNN equals a packed bidirectional nn.LSTM/GRU with the same weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nerkit.encoders.recurrent import BiRNN, reverse_within_lengths


def test_reversal_within_lengths_is_an_involution(gen):
    inputs = torch.randn(3, 5, 2, generator=gen)
    mask = torch.arange(5) < torch.tensor([5, 2, 1])[:, None]
    flipped = reverse_within_lengths(inputs, mask)
    assert torch.equal(flipped[1, :2], inputs[1, :2].flip(0))
    assert torch.equal(flipped[1, 2:], inputs[1, 2:])
    assert torch.equal(reverse_within_lengths(flipped, mask), inputs)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_birnn_matches_packed_bidirectional_rnn(gen, kind, num_layers):
    reference = (nn.LSTM if kind == "lstm" else nn.GRU)(
        4, 3, num_layers=num_layers, bidirectional=True, batch_first=True
    )
    ours = BiRNN(kind, 4, 3, num_layers=num_layers)
    with torch.no_grad():
        for layer in range(num_layers):
            for direction, suffix in [
                (ours.forward_layers, ""),
                (ours.backward_layers, "_reverse"),
            ]:
                for name in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]:
                    source = getattr(reference, f"{name}_l{layer}{suffix}")
                    getattr(direction[layer], f"{name}_l0").copy_(source)
    lengths = torch.tensor([6, 2, 4, 1])
    mask = torch.arange(6) < lengths[:, None]
    inputs = torch.randn(4, 6, 4, generator=gen)
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = pad_packed_sequence(reference(packed)[0], batch_first=True, total_length=6)
    torch.testing.assert_close(ours(inputs, mask), expected, atol=1e-6, rtol=1e-5)
