"""Trains the judge from its pairs and exports it: MiniLM's first layers, mean-pooled, a two-way head, int8 ONNX.

Started from the bundled all-MiniLM-L6-v2 weights. That model was trained for
mean pooling, so the judge pools the same way (a classifier reading the [CLS]
position through a new, random pooler did not learn in the pilot of
../shared/OFFLINE.md), and the new head learns faster than the body it sits
on (`head_lr` against `body_lr`). Only the first `layers` layers are kept:
at question time the judge reads eight or more short units on 2 cores.
Everything random is seeded and batches are formed in a fixed order, so the
same data and settings give the same model; the card records the data's hash.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from assistant.judge.model import TASKS, encode, tokenizer
from assistant.judge.pairs import Pair
from corpus.settings import JudgeSettings, TrainingSettings


def _net(base: Path, layers: int, outputs: int = len(TASKS)):
    import torch
    from transformers import AutoModel

    class JudgeNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            bert = AutoModel.from_pretrained(str(base))
            bert.encoder.layer = bert.encoder.layer[:layers]
            bert.config.num_hidden_layers = layers
            self.bert = bert
            self.head = torch.nn.Linear(bert.config.hidden_size, outputs)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    return JudgeNet()


def _batches(pairs: list[Pair], tok, size: int, rng: random.Random) -> list[list[int]]:
    """Indices of pairs in batches of similar length (less padding), the batches in a seeded order."""
    lengths = [len(e.ids) for e in tok.encode_batch([(p.a, p.b) for p in pairs])]
    order = sorted(range(len(pairs)), key=lambda i: (lengths[i], i))
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative (ties half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def predict(net, pairs: list[Pair], tok, size: int = 64, tasks: tuple[str, ...] = TASKS) -> np.ndarray:
    """The probability of each pair's label under its task, from the torch model."""
    import torch

    out = np.zeros(len(pairs), dtype=np.float32)
    net.eval()
    with torch.no_grad():
        for i in range(0, len(pairs), size):
            part = pairs[i : i + size]
            arrays = {k: torch.from_numpy(v) for k, v in encode(tok, [(p.a, p.b) for p in part]).items()}
            logits = net(**arrays).numpy()
            out[i : i + size] = 1 / (1 + np.exp(-logits[np.arange(len(part)), [tasks.index(p.task) for p in part]]))
    return out


def figures(pairs: list[Pair], probs: np.ndarray, tasks: tuple[str, ...] = TASKS) -> dict:
    """Validation figures: pair AUC per task, and per question the best unit's probability (answerable
    questions' best positive against unanswerable questions' best unit), which is what a refusal reads."""
    labels = np.array([p.label for p in pairs], dtype=np.int64)
    out = {}
    for task in tasks:
        mine = np.array([p.task == task for p in pairs], dtype=bool)
        out[f"{task}_pair_auc"] = round(auc(labels[mine], probs[mine]), 4)
    best: dict[str, tuple[int, float]] = {}
    for p, prob in zip(pairs, probs):
        if p.task == tasks[0]:
            answered, top = best.get(p.qid, (0, 0.0))
            best[p.qid] = (max(answered, p.label), max(top, float(prob)))
    qlabels = np.array([a for a, _ in best.values()], dtype=np.int64)
    qbest = np.array([b for _, b in best.values()], dtype=np.float64)
    out["answerability_auc"] = round(auc(qlabels, qbest), 4)
    out["questions"] = {"answerable": int(qlabels.sum()), "unanswerable": int((1 - qlabels).sum())}
    return out


def train(train_pairs: list[Pair], valid_pairs: list[Pair], base: Path, out: Path,
          training: TrainingSettings = TrainingSettings(), judge: JudgeSettings = JudgeSettings(),
          log=print, tasks: tuple[str, ...] = TASKS, name: str = "judge.onnx", keep: str = "loss") -> dict:
    """Train, keep the epoch with the lowest validation loss, export to `out` (`name`, int8; tokenizer.json);
    the card. `tasks` are the head's outputs in order (the judge's, or the premise check's one); `keep`: the epoch
    kept is the one with the lowest validation loss ("loss") or the highest pair AUC of the first task ("auc")."""
    import torch

    started = time.perf_counter()
    random.seed(training.seed)
    np.random.seed(training.seed)
    torch.manual_seed(training.seed)
    rng = random.Random(training.seed)
    tok = tokenizer(base, judge.max_tokens)
    net = _net(base, training.layers, len(tasks))
    batches = _batches(train_pairs, tok, training.batch, rng)
    steps = training.epochs * len(batches)
    optimizer = torch.optim.AdamW([{"params": net.bert.parameters(), "lr": training.body_lr},
                                   {"params": net.head.parameters(), "lr": training.head_lr}], weight_decay=0.01)
    warm = max(1, int(training.warmup * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    answers = [p for p in train_pairs if p.task == tasks[0]]
    pos_weight = float(np.sqrt(sum(1 - p.label for p in answers) / max(1, sum(p.label for p in answers))))
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    history, best_state, best_loss = [], None, float("inf")
    for epoch in range(training.epochs):
        net.train()
        total, seen = 0.0, 0
        for number, batch in enumerate(batches, start=1):
            part = [train_pairs[i] for i in batch]
            arrays = {k: torch.from_numpy(v) for k, v in encode(tok, [(p.a, p.b) for p in part]).items()}
            logits = net(**arrays)
            heads = torch.tensor([tasks.index(p.task) for p in part])
            labels = torch.tensor([float(p.label) for p in part])
            picked = logits[torch.arange(len(part)), heads]
            weights = torch.where((heads == 0) & (labels == 1), torch.tensor(pos_weight), torch.tensor(1.0))
            loss = (loss_fn(picked, labels) * weights).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total, seen = total + float(loss.detach()) * len(part), seen + len(part)
            if number % 100 == 0:
                log(f"  epoch {epoch + 1}, batch {number}/{len(batches)}: loss {total / seen:.4f} "
                    f"({time.perf_counter() - started:.0f} s)")
        probs = predict(net, valid_pairs, tok, tasks=tasks)
        labels = np.array([p.label for p in valid_pairs], dtype=np.float64)
        valid_loss = float(-np.mean(labels * np.log(probs + 1e-7) + (1 - labels) * np.log(1 - probs + 1e-7))) \
            if len(labels) else 0.0  # nothing kept apart (a tiny data set): the last epoch is kept
        record = {"epoch": epoch + 1, "train_loss": round(total / max(seen, 1), 4), "valid_loss": round(valid_loss, 4),
                  **figures(valid_pairs, probs, tasks)}
        history.append(record)
        log(f"  epoch {epoch + 1}: {json.dumps(record)}")
        mark = valid_loss if keep == "loss" else -record[f"{tasks[0]}_pair_auc"]
        mark = float("-inf") if mark != mark else mark  # no AUC (one label only, or nothing kept apart): the last epoch
        if mark <= best_loss:
            best_loss, best_state = valid_loss, {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    export(net, tok, base, out, name)
    card = {"trained_s": round(time.perf_counter() - started, 1), "pairs": {"train": len(train_pairs),
            "validation": len(valid_pairs)}, "history": history, "settings": {"training": training.__dict__,
            "max_tokens": judge.max_tokens}}
    return card


def export(net, tok, base: Path, out: Path, name: str = "judge.onnx") -> Path:
    """Write the model as ONNX, quantised to int8 (matrix weights and the word embeddings), with the
    tokenizer beside it, into `out` (replaced whole)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    work = Path(tempfile.mkdtemp(prefix="procure-ai-judge-"))
    try:
        sample = {k: torch.from_numpy(v) for k, v in encode(tok, [("a question", "a unit of text"),
                                                                   ("a longer question", "x")]).items()}
        names = list(sample)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(net.eval(), tuple(sample[n] for n in names), str(work / "fp32.onnx"), input_names=names,
                              output_names=["logits"], opset_version=17, dynamo=False,
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "logits": {0: "batch"}})
        quantize_dynamic(str(work / "fp32.onnx"), str(work / "judge.onnx"), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gather"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "judge.onnx", out / f".{name}.tmp")
        os.replace(out / f".{name}.tmp", out / name)
        shutil.copyfile(base / "tokenizer.json", out / "tokenizer.json")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out / name
