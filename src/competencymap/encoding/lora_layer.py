"""The LoRA layer itself: a frozen linear layer plus a trained low-rank update (torch, training only)."""

from __future__ import annotations

import math

import torch


class LoraLinear(torch.nn.Module):
    """y = base(x) + scale * (x A^T) B^T, with A (rank x in) and B (out x rank); B starts at zero,
    so training starts from the base model exactly."""

    def __init__(self, base: torch.nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        if rank < 1:
            raise ValueError(f"LoRA rank must be at least 1, not {rank}")
        self.base = base
        self.scale = alpha / rank
        self.lora_a = torch.nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
        torch.nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scale * ((x @ self.lora_a.T) @ self.lora_b.T)
