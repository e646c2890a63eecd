"""Contrastive adaptation of a sentence-transformers model to a field: pairs in, a LoRA adapter out.

Each training pair is an *anchor* (a text as people write it: an alternative label, a
description, a job-ad sentence, a learning outcome) and a *positive* (the preferred label of the
competency it names). A batch of pairs is scored all against all; each anchor must pick its own
positive out of the batch (multiple-negatives ranking loss, Henderson et al. 2017): the other
positives are its negatives. Pairs may name their competency (`key`) and the other competencies
their anchor also names (`also`), so a sentence labelled with two skills never learns to push
either away; pairs may carry a `group` (the competency's skill group) so that batches are drawn
group by group and siblings become each other's negatives — the hard negatives the field's own
structure gives. A pair may carry a `negative` (a tag a designer rejected), scored as one more
wrong answer for every anchor of its batch.

Only LoRA matrices are trained (`lora.py`); the run is deterministic for a seed, a pairs file and
a thread count. The result is a folder holding `adapter.safetensors` and `adapter.json` (what was
trained, on what, how); `adapted.py` merges it into the verified base model.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from competencymap._common.checksum import file_sha256
from competencymap._common.errors import InputTextError, ModelError

ADAPTER_FILE = "adapter.safetensors"
ADAPTER_META = "adapter.json"


@dataclass(frozen=True)
class Pair:
    anchor: str
    positive: str
    key: str = ""  # the competency the positive names (defaults to the positive's text)
    also: frozenset[str] = frozenset()  # other competencies the anchor names: never its negatives
    group: str = ""  # the competency's group: batches are drawn group by group
    negative: str = ""  # a wrong answer for this anchor (a rejected tag)

    @property
    def concept(self) -> str:
        return self.key or self.positive


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 13
    epochs: int = 1
    batch_size: int = 64
    max_tokens: int = 64
    rank: int = 16
    alpha: float = 32.0
    learning_rate: float = 3e-4
    warmup: float = 0.1  # share of the steps over which the learning rate rises
    scale: float = 20.0  # cosine similarities are multiplied by this before the softmax
    group_batches: float = 0.5  # share of the batches drawn group by group (siblings as negatives)
    threads: int = 0  # torch threads; 0: every core
    limit: int = 0  # train on the first `limit` pairs of the shuffled schedule only (0: all)


@dataclass
class TrainReport:
    steps: int = 0
    pairs: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)  # mean loss per tenth of the run


def read_pairs(path: Path) -> list[Pair]:
    """Pairs from a JSON-lines file: {"anchor", "positive"[, "key", "also", "group", "negative"]}.

    A bad line is an error naming the line; a file without pairs is an error too."""
    pairs: list[Pair] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise InputTextError(f"cannot read the pairs file: {error.strerror}", path=str(path)) from None
    with handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                pairs.append(_pair(line, number, path))
    if not pairs:
        raise InputTextError("the pairs file holds no pairs", path=str(path))
    return pairs


def _pair(line: str, number: int, path: Path) -> Pair:
    try:
        item = json.loads(line)
    except ValueError:
        raise InputTextError(f"line {number} is not JSON", path=str(path)) from None
    if not isinstance(item, dict):
        raise InputTextError(f"line {number} is not a JSON object", path=str(path))
    anchor, positive = item.get("anchor"), item.get("positive")
    if not isinstance(anchor, str) or not anchor.strip() or not isinstance(positive, str) or not positive.strip():
        raise InputTextError(f"line {number} needs a non-empty 'anchor' and 'positive'", path=str(path))
    also = item.get("also") or []
    if not isinstance(also, list) or not all(isinstance(x, str) for x in also):
        raise InputTextError(f"line {number}: 'also' must be a list of strings", path=str(path))
    extras = {name: item.get(name) or "" for name in ("key", "group", "negative")}
    if not all(isinstance(v, str) for v in extras.values()):
        raise InputTextError(f"line {number}: 'key', 'group' and 'negative' must be strings", path=str(path))
    return Pair(anchor.strip(), positive.strip(), extras["key"], frozenset(also), extras["group"],
                extras["negative"].strip())


def write_pairs(pairs: Iterable[Pair], path: Path) -> int:
    """Write pairs as JSON lines (the format `read_pairs` reads); returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            item: dict[str, Any] = {"anchor": pair.anchor, "positive": pair.positive}
            if pair.key:
                item["key"] = pair.key
            if pair.also:
                item["also"] = sorted(pair.also)
            if pair.group:
                item["group"] = pair.group
            if pair.negative:
                item["negative"] = pair.negative
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
    return count


def schedule(pairs: Sequence[Pair], settings: TrainSettings) -> list[list[Pair]]:
    """The batches of a run, in order, fixed by the seed.

    A share of the batches (`group_batches`) is drawn group by group: the pairs of one group
    shuffled, groups in a shuffled order, cut into batches — so a batch holds siblings. The rest
    are drawn from the whole set at random. A batch never holds the same competency twice."""
    rng = random.Random(settings.seed)
    batches: list[list[Pair]] = []
    for _ in range(settings.epochs):
        order = list(pairs)
        rng.shuffle(order)
        if settings.limit:
            order = order[: settings.limit]
        # a small file is drawn at random only: splitting it would leave batches too small to teach
        cut = round(len(order) * settings.group_batches) if len(order) >= 4 * settings.batch_size else 0
        grouped, mixed = order[:cut], order[cut:]
        groups: dict[str, list[Pair]] = {}
        for pair in grouped:
            groups.setdefault(pair.group, []).append(pair)
        names = sorted(groups)
        rng.shuffle(names)
        by_group = [pair for name in names for pair in groups[name]]
        epoch = _cut(by_group, settings.batch_size) + _cut(mixed, settings.batch_size)
        rng.shuffle(epoch)
        batches += epoch
    return batches


def _cut(pairs: Sequence[Pair], size: int) -> list[list[Pair]]:
    """Consecutive batches of `size` pairs; a pair whose competency is already in the batch waits
    for the next one."""
    batches: list[list[Pair]] = []
    current: list[Pair] = []
    seen: set[str] = set()
    waiting: list[Pair] = []
    for pair in pairs:
        if pair.concept in seen:
            waiting.append(pair)
            continue
        current.append(pair)
        seen.add(pair.concept)
        if len(current) == size:
            batches.append(current)
            current, seen = [], set()
            retry, waiting = waiting, []
            for held in retry:
                if held.concept in seen or len(current) == size:
                    waiting.append(held)
                else:
                    current.append(held)
                    seen.add(held.concept)
    leftover = current + [p for p in waiting if p.concept not in {q.concept for q in current}]
    if len(leftover) > 1:
        batches.append(leftover)
    return batches


def train(
    base: Path,
    base_sha256: str,
    pairs: Sequence[Pair],
    out: Path,
    settings: TrainSettings = TrainSettings(),
    *,
    pairs_sha256: str = "",
    on_progress: Callable[[int, int, float], None] | None = None,
) -> TrainReport:
    """Train a LoRA adapter for the model in `base` (verified by the caller) on `pairs`; write it
    under `out` with its description. Returns what happened."""
    import torch

    if settings.batch_size < 2:
        raise ModelError("batch_size must be at least 2: the other pairs of a batch are the negatives")
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        _seed_everything(settings.seed)
        torch.set_num_threads(settings.threads or threads)
        return _train(base, base_sha256, pairs, out, settings, pairs_sha256, on_progress)
    finally:  # the process's torch settings are left as they were
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(base: Path, base_sha256: str, pairs: Sequence[Pair], out: Path, settings: TrainSettings,
           pairs_sha256: str, on_progress: Callable[[int, int, float], None] | None) -> TrainReport:
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from competencymap.encoding.lora import adapter_tensors, attach, save_adapter

    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModel.from_pretrained(str(base), local_files_only=True, use_safetensors=True)
    model.eval()  # no dropout: the adapter is trained deterministically on the base model's behaviour
    wrapped = attach(model, settings.rank, settings.alpha)
    trained = [p for layer in wrapped.values() for p in (layer.lora_a, layer.lora_b)]
    optimizer = torch.optim.AdamW(trained, lr=settings.learning_rate, weight_decay=0.0)
    batches = schedule(pairs, settings)
    if not batches:
        raise ModelError("too few pairs for one batch")
    warm = max(1, round(len(batches) * settings.warmup))
    total = len(batches)
    rates = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warm, max(0.0, (total - step) / max(1, total - warm))))
    report = TrainReport(pairs=sum(len(b) for b in batches))
    started = time.perf_counter()
    window: list[float] = []
    for step, batch in enumerate(batches):
        loss = _batch_loss(model, tokenizer, batch, settings)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        rates.step()
        window.append(float(loss.detach()))
        report.steps = step + 1
        if on_progress:
            on_progress(step + 1, total, window[-1])
        if (step + 1) % max(1, total // 10) == 0 or step + 1 == total:
            report.losses.append(round(float(np.mean(window)), 4))
            window = []
    report.seconds = round(time.perf_counter() - started, 1)
    tensors = adapter_tensors(wrapped)
    meta = describe(base_sha256, settings, report, pairs_sha256, len(pairs))
    # One metadata key only: safetensors writes metadata in hash-map order, so two keys would make the
    # file's bytes (and its sha256) differ between runs. The scale and the rest are in adapter.json.
    save_adapter(tensors, out / ADAPTER_FILE, {"format": "competencymap-lora"})
    meta["adapter_sha256"] = file_sha256(out / ADAPTER_FILE)
    (out / ADAPTER_META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return report


def describe(base_sha256: str, settings: TrainSettings, report: TrainReport, pairs_sha256: str,
             pair_count: int) -> dict[str, Any]:
    import torch

    return {
        "format": "competencymap-lora",
        "base_sha256": base_sha256,
        "scale": settings.alpha / settings.rank,
        "settings": asdict(settings),
        "pairs_sha256": pairs_sha256,
        "pairs": pair_count,
        "trained_pairs": report.pairs,
        "steps": report.steps,
        "seconds": report.seconds,
        "loss_by_tenth": report.losses,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
    }


def _batch_loss(model: Any, tokenizer: Any, batch: Sequence[Pair], settings: TrainSettings) -> Any:
    """Multiple-negatives ranking loss of one batch, with the batch's competencies masked where an
    anchor names them too."""
    import torch

    anchors = _embed(model, tokenizer, [p.anchor for p in batch], settings.max_tokens)
    negatives_text = [p.negative for p in batch if p.negative]
    positives = _embed(model, tokenizer, [p.positive for p in batch] + negatives_text, settings.max_tokens)
    scores = settings.scale * anchors @ positives.T
    size = len(batch)
    mask = torch.zeros_like(scores, dtype=torch.bool)
    for i, pair in enumerate(batch):
        for j, other in enumerate(batch):
            if i != j and (other.concept == pair.concept or other.concept in pair.also):
                mask[i, j] = True
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.nn.functional.cross_entropy(scores, torch.arange(size))


def _embed(model: Any, tokenizer: Any, texts: Sequence[str], max_tokens: int) -> Any:
    import torch

    tokens = tokenizer(list(texts), padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    states = model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).to(states.dtype)
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
