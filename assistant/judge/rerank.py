"""Retrieval with the judge: a wider pool of passages, each scored by how well its best unit answers.

The hybrid search (index/search.py) ranks passages by what they share with
the question; the judge reads the question with the passages' best units and
says which of them answers it. Each passage of the pool gets its fused
retrieval score (z-scored over the pool) plus `rerank_weight` times the logit
of its best judged unit; the top k come back in that order, each carrying the
judge's verdict in `signals` ("judge": its best unit's probability, "units":
each judged unit's) for the refusal policy and the answerer, which then need
no model call of their own. Only `units` units are read, the best by the
answerer's cheap scores (lexical and sentence-vector), at most a third of
them from one passage so that every strong passage is read. With a premise
check (assistant/judge/premise.py), the first `premise_units` of those units
are read again for whether they contradict the question's premise
(`signals["premise"]`: each read unit's probability, by its start).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from assistant.judge.model import Judge
from assistant.units import Unit, judged_text, units
from corpus.records import Passage, Scope
from corpus.settings import AnswerSettings, JudgeSettings
from corpus.text import tokenize


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


class JudgedSearcher:
    """A Searcher (assistant/service.py) that reranks another's pool with the judge."""

    def __init__(self, searcher, judge: Judge, settings: JudgeSettings = JudgeSettings(),
                 answers: AnswerSettings = AnswerSettings(), cheap=None, premise=None):
        self.searcher = searcher
        self.judge = judge
        self.settings = settings
        self.answers = answers
        self.cheap = cheap  # (question, passages, units) -> cheap scores, from the answerer; None: lexical only
        self.premise = premise  # the premise check (assistant/judge/premise.py), or None

    def catalog(self):
        return self.searcher.catalog()

    def search(self, query: str, k: int | None = None, scope: Scope = Scope()) -> list[Passage]:
        k = k or getattr(getattr(self.searcher, "settings", None), "top_k", 5)
        pool = self.searcher.search(query, max(k, self.settings.pool), scope)
        if not pool:
            return pool
        chosen = self.judged_units(query, pool)
        probs = self.judge.answers(query, [judged_text(pool[u.passage], u) for u in chosen]) if chosen else []
        per: dict[int, dict[int, float]] = {}
        for unit, prob in zip(chosen, probs):
            per.setdefault(unit.passage, {})[unit.start] = round(float(prob), 4)
        premises: dict[int, dict[int, float]] = {}
        if self.premise is not None and chosen:
            read = chosen[: self.settings.premise_units]
            found = self.premise.contradicts(query, [judged_text(pool[u.passage], u) for u in read])
            for unit, prob in zip(read, found):
                premises.setdefault(unit.passage, {})[unit.start] = round(float(prob), 4)
        scores = np.array([p.score for p in pool], dtype=np.float64)
        z = (scores - scores.mean()) / (scores.std() or 1.0)
        floor = min(per_best for per_best in (max(v.values()) for v in per.values())) if per else 0.5
        ranked = []
        for i, p in enumerate(pool):
            best = max(per[i].values()) if i in per else floor
            ranked.append((z[i] + self.settings.rerank_weight * logit(best), -i, i, best))
        ranked.sort(reverse=True)
        out = []
        for rank, (score, _, i, best) in enumerate(ranked[:k], start=1):
            p = pool[i]
            signals = {**p.signals, "judge": round(best, 4), "units": per.get(i, {}), "retrieval_rank": i + 1}
            if self.premise is not None:
                signals["premise"] = premises.get(i, {})
            out.append(replace(p, rank=rank, score=round(score, 4), signals=signals))
        return out

    def judged_units(self, question: str, pool: list[Passage]) -> list[Unit]:
        """The units the judge reads: the best by the cheap scores, at most a third from one passage."""
        sentences, lists = units(pool, self.answers.list_words)
        candidates = sentences + lists
        if self.cheap is not None:
            scores = self.cheap(question, pool, candidates)
        else:
            q_terms = set(tokenize(question))
            scores = [len(q_terms & u.terms) / (len(q_terms) or 1) + 0.25 / (u.passage + 1) for u in candidates]
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i].passage, candidates[i].start))
        cap = max(2, self.settings.units // 3)
        taken, per = [], {}
        for i in order:
            unit = candidates[i]
            if per.get(unit.passage, 0) >= cap:
                continue
            taken.append(unit)
            per[unit.passage] = per.get(unit.passage, 0) + 1
            if len(taken) == self.settings.units:
                break
        return taken
