"""`procure-ai train --only retriever`: tune the embedder that finds passages, from the written questions.

The judge can only rank what the search hands it, and the bundled
all-MiniLM-L6-v2 was trained on web pairs, not on officers' questions about
procurement guidance: an evidence passage outside the top twenty is never
judged. This teaches the embedder which passage answers a question.

Each answerable training line (documents held out of training excluded) gives
one example per passage holding its evidence: (question, that passage, a hard
negative), the negative being the best-ranked passage of the untuned search
that holds none of the evidence and sits in another section. The loss is
multiple negatives ranking: each question's passage must out-score the
batch's other passages and negatives, so every batch of 32 brings 63
negatives for little cost. The word-piece embeddings stay frozen (they are
most of the model's weights, and words the questions never use would drift
while those they do move), and so do the first `retriever_frozen` layers:
training is quicker and the shipped file holds only the layers that changed
(index/model/, fp16, loaded over the bundled weights by index/embedder.py).

Passages are embedded as the index embeds them (`Chunk.embedding_text`). The
questions kept apart for validation (the judge's split) measure the dense
search alone, before and after, over every passage of the training corpus;
the card records those figures with the data's hash and the settings.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np

from assistant.judge.pairs import data_hash, held_out, is_validation, load_lines
from corpus.settings import Settings
from corpus.text import normalise

MODEL_DIR = Path(__file__).resolve().parents[2] / "index" / "model"
CARD = "tuned.json"  # beside tuned.safetensors (a different name from the judge's card: `--out` may be one folder)


def passages(index) -> tuple[list[str], list[str], dict[str, tuple[str, str]]]:
    """(chunk ids, the texts the embedder read for them, {id: (document, section)}) of every live chunk."""
    catalog = index.catalog()
    ids = [cid for doc in catalog.documents.values() for cid in doc.chunk_ids]
    texts, where = index.embedding_texts(ids)
    return ids, [texts[c] for c in ids], where


def positives(spans: list[str], docs: list[str], ids: list[str], norm: list[str], where: dict) -> list[int]:
    """Indexes of the chunks holding the evidence: for each span, the chunk of its document that holds it whole,
    else the one holding most of its words (a span across a chunk boundary), at least two thirds."""
    found: list[int] = []
    for span, doc in zip(spans, docs):
        s = normalise(span)
        words = set(s.split())
        mine = [i for i, c in enumerate(ids) if where[c][0] == doc] or range(len(ids))
        whole = [i for i in mine if s in norm[i]]
        if whole:
            best = whole[0]
        else:
            share = {i: len(words & set(norm[i].split())) / max(1, len(words)) for i in mine}
            best = max(share, key=share.get) if share else None
            if best is None or share[best] < 2 / 3:
                continue
        if best not in found:
            found.append(best)
    return found


def examples(lines: list[dict], held: set[str], ids, texts, where, searcher, training, rng) -> tuple[list, list]:
    """(training triples (question, passage, negative), validation (question, positive chunk indexes))."""
    norm = [normalise(t) for t in texts]
    position = {c: i for i, c in enumerate(ids)}
    train, valid = [], []
    for line in lines:
        spans = line.get("evidence") or []
        docs = [line.get("doc", "")] * len(spans)  # a training line's evidence comes from its one document
        if not line.get("answerable") or not spans or set(docs) & held:
            continue
        good = positives(spans, docs, ids, norm, where)
        if not good:
            continue
        if is_validation(line["id"], training.validation):
            valid.append((line["question"], good))
            continue
        sections = {where[ids[i]] for i in good}
        spans_n = [normalise(s) for s in spans]
        negatives = []
        for p in searcher.search(line["question"], training.retriever_pool):
            i = position.get(p.chunk_id)
            if i is None or i in good or where[p.chunk_id] in sections or any(s in normalise(p.text) for s in spans_n):
                continue
            negatives.append(i)
        for i in good[: training.retriever_positives]:
            if not negatives:  # the search found nothing else: any passage of another section
                negatives = [rng.choice([j for j, c in enumerate(ids) if where[c] not in sections] or [i])]
            neg = negatives[rng.randrange(min(len(negatives), 3))]
            train.append((line["question"], i, neg))
    return train, valid


def recall(model, valid: list, texts: list[str], ks=(1, 5, 10, 20)) -> dict:
    """Dense search alone over every chunk: the share of validation questions with an evidence chunk in the
    top k, and the mean reciprocal rank of the first."""
    if not valid:
        return {}
    passages_v = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    questions = model.encode([q for q, _ in valid], batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    order = np.argsort(-(questions @ passages_v.T), axis=1)
    ranks = [min(int(np.where(row == i)[0][0]) for i in good) + 1 for row, (_, good) in zip(order, valid)]
    out = {f"recall@{k}": round(float(np.mean([r <= k for r in ranks])), 4) for k in ks}
    out["mrr"] = round(float(np.mean([1 / r for r in ranks])), 4)
    return out


def tune(model, train: list, texts: list[str], training, log) -> list[dict]:
    """Multiple negatives ranking over (question, passage, negative) batches; the loss per epoch."""
    import torch

    body = model[0].auto_model
    for p in body.embeddings.word_embeddings.parameters():
        p.requires_grad = False
    for layer in body.encoder.layer[: training.retriever_frozen]:
        for p in layer.parameters():
            p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    rng = random.Random(training.seed)
    batches = _batches(train, training.batch, rng, training.retriever_epochs)
    optimizer = torch.optim.AdamW(params, lr=training.retriever_lr, weight_decay=0.01)
    warm = max(1, int(training.warmup * len(batches)))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (len(batches) - s) / max(1, len(batches) - warm))))
    model.train()
    started, history, total, seen = time.perf_counter(), [], 0.0, 0

    def embed(strings):
        features = model.preprocess(strings)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    per_epoch = len(batches) // training.retriever_epochs
    for number, batch in enumerate(batches, start=1):
        q = embed([train[i][0] for i in batch])
        docs = embed([texts[train[i][1]] for i in batch] + [texts[train[i][2]] for i in batch])
        scores = q @ docs.T * training.retriever_scale
        loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        total, seen = total + float(loss.detach()) * len(batch), seen + len(batch)
        if number % 20 == 0:
            log(f"  batch {number}/{len(batches)}: loss {total / seen:.4f} ({time.perf_counter() - started:.0f} s)")
        if number % per_epoch == 0:
            history.append({"epoch": number // per_epoch, "train_loss": round(total / seen, 4)})
            total, seen = 0.0, 0
    model.eval()
    return history


def _batches(train: list, size: int, rng: random.Random, epochs: int) -> list[list[int]]:
    """Shuffled batches, each question and passage at most once per batch (a second copy would be scored as a
    negative of itself)."""
    out = []
    for _ in range(epochs):
        order = list(range(len(train)))
        rng.shuffle(order)
        pending = order
        while pending:
            batch, used, later = [], set(), []
            for i in pending:
                q, pos, neg = train[i]
                if len(batch) < size and not ({q, ("p", pos), ("p", neg)} & used):
                    batch.append(i)
                    used |= {q, ("p", pos), ("p", neg)}
                else:
                    later.append(i)
            out.append(batch)
            pending = later
    return out


def save(model, out: Path, frozen: int) -> Path:
    """The tuned weights that differ from the bundled model's (every layer from `frozen` on, the position and
    type embeddings, the layer norms) as fp16 safetensors."""
    from safetensors.torch import save_file

    state = model[0].auto_model.state_dict()
    keep = {k: v.detach().to("cpu").half().contiguous() for k, v in state.items()
            if not k.startswith("embeddings.word_embeddings") and not k.startswith("pooler")
            and not any(k.startswith(f"encoder.layer.{n}.") for n in range(frozen))}
    out.mkdir(parents=True, exist_ok=True)
    path = out / "tuned.safetensors"
    save_file(keep, str(path))
    return path


def rebuild_retriever(settings: Settings, data: Path, corpus: Path, out: Path, factory, log=print,
                      work_dir: Path | None = None) -> dict:
    """Tune the bundled MiniLM on the training questions of `data` over `corpus`; write out/tuned.safetensors and
    its card, out/tuned.json. Negatives and the validation figures' baseline come from the untuned model, so the result
    depends on the data and the settings alone."""
    import tempfile

    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.judge.build import untuned_index
    from index.embedder import bundled_model_path
    from index.search import Searcher

    started = time.perf_counter()
    training = settings.training
    random.seed(training.seed)
    np.random.seed(training.seed)
    torch.manual_seed(training.seed)
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="procure-ai-train-"))
    work, index = untuned_index(settings, corpus, work_dir, factory, log)
    ids, texts, where = passages(index)
    lines = load_lines(data)
    train, valid = examples(lines, held_out(data), ids, texts, where, Searcher(index, work.retrieval), training,
                            random.Random(training.seed))
    log(f"{len(train)} training examples, {len(valid)} validation questions over {len(ids)} passages")
    model = SentenceTransformer(bundled_model_path(), device="cpu")
    before = recall(model, valid, texts)
    log(f"untuned: {json.dumps(before)}")
    history = tune(model, train, texts, training, log)
    after = recall(model, valid, texts)
    log(f"tuned: {json.dumps(after)}")
    path = save(model, Path(out), training.retriever_frozen)
    card = {
        "model": "all-MiniLM-L6-v2 (Apache-2.0), layers from the frozen ones on tuned; word pieces frozen",
        "data_sha256": data_hash(data),
        "examples": {"train": len(train), "validation_questions": len(valid), "passages": len(ids)},
        "settings": {k: v for k, v in training.__dict__.items() if k.startswith("retriever_") or k in
                     ("seed", "batch", "warmup", "validation")},
        "history": history,
        "validation_dense": {"untuned": before, "tuned": after},
        "file_bytes": path.stat().st_size,
        "total_s": round(time.perf_counter() - started, 1),
    }
    (Path(out) / CARD).write_text(json.dumps(card, indent=1), encoding="utf-8")
    return card
