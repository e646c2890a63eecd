"""Low-rank adapters (LoRA) for the encoder's linear layers: attach, save, merge.

A LoRA adapter adds to a frozen weight W (out x in) a trained product B @ A of rank r, scaled
by alpha / r (Hu et al., 2021). Training changes only A and B — a few hundred thousand numbers
instead of 22 million — so the adapted model ships as a small safetensors file and is merged
into the verified base weights when it is loaded: W' = W + (alpha / r) B @ A. Nothing here is
pickled: adapters are read and written with safetensors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from competencymap._common.errors import ModelError

# The BERT linear layers adapted by default: attention (query, key, value, output) and the feed-forward pair.
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")
A_SUFFIX = ".lora_A"
B_SUFFIX = ".lora_B"


def attach(model: Any, rank: int, alpha: float, targets: Sequence[str] = TARGETS) -> dict[str, Any]:
    """Wrap each targeted `nn.Linear` of a transformers model in a LoRA layer; freeze everything else.

    Returns the wrapped layers by their weight's name (without `.weight`)."""
    import torch

    from competencymap.encoding.lora_layer import LoraLinear

    for parameter in model.parameters():
        parameter.requires_grad_(False)
    wrapped: dict[str, Any] = {}
    for name, module in list(model.named_modules()):
        if not isinstance(module, torch.nn.Linear) or not _targeted(name, targets):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        layer = LoraLinear(module, rank, alpha)
        setattr(parent, child, layer)
        wrapped[name] = layer
    if not wrapped:
        raise ModelError(f"no linear layer matches the LoRA targets {', '.join(targets)}")
    return wrapped


def _targeted(name: str, targets: Sequence[str]) -> bool:
    # "output.dense" must not also pick "attention.output.dense": match the layer's own suffix
    return any(name.endswith("." + t) and not (t == "output.dense" and name.endswith("attention.output.dense"))
               for t in targets)


def adapter_tensors(wrapped: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The trained A and B of each wrapped layer, as float32 arrays keyed `<layer>.lora_A` / `.lora_B`."""
    tensors: dict[str, np.ndarray] = {}
    for name, layer in sorted(wrapped.items()):
        tensors[name + A_SUFFIX] = layer.lora_a.detach().cpu().numpy().astype(np.float32)
        tensors[name + B_SUFFIX] = layer.lora_b.detach().cpu().numpy().astype(np.float32)
    return tensors


def save_adapter(tensors: Mapping[str, np.ndarray], path: Path, metadata: Mapping[str, str]) -> None:
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(dict(tensors), str(path), metadata=dict(metadata))


def load_adapter(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        return dict(load_file(str(path)))
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same problem for the user
        raise ModelError(f"not a readable safetensors adapter: {error}", path=str(path)) from None


def merge(base: Mapping[str, np.ndarray], adapter: Mapping[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """Base weights with each adapted layer's W replaced by W + scale * B @ A (all float32).

    Base keys may carry a prefix the adapter's keys lack (a saved BertModel has none, a
    BertForX has `bert.`); every adapter layer must be found exactly once, with matching shapes."""
    merged = dict(base)
    layers = sorted({key[: -len(A_SUFFIX)] for key in adapter if key.endswith(A_SUFFIX)})
    if not layers or len(adapter) != 2 * len(layers):
        raise ModelError("adapter must hold a lora_A and a lora_B for each layer")
    for layer in layers:
        key = _weight_key(base, layer)
        a, b = adapter[layer + A_SUFFIX], adapter[layer + B_SUFFIX]
        weight = base[key]
        if b.shape[1] != a.shape[0] or (b.shape[0], a.shape[1]) != weight.shape:
            raise ModelError(f"adapter layer {layer} has shape {b.shape} x {a.shape}, the base weight {weight.shape}")
        merged[key] = (weight.astype(np.float32) + np.float32(scale) * (b.astype(np.float32) @ a.astype(np.float32)))
    return merged


def _weight_key(base: Mapping[str, np.ndarray], layer: str) -> str:
    found = [key for key in base if key == layer + ".weight" or key.endswith("." + layer + ".weight")]
    if len(found) != 1:
        raise ModelError(f"adapter layer {layer} matches {len(found)} weights of the base model, not one")
    return found[0]
