"""Runs a gold set through the assistant and scores retrieval, citations, answers and refusals.

Citation metrics follow ALCE (Gao et al., 2023), judged by the offline verifier
(or any Judge): a statement's citation recall is 1 when its cited passages
together support it; a citation is precise when it supports the statement on
its own, or the statement loses support without it. `cited_evidence` is
stricter and needs no judge: the share of answers whose citations include a
passage holding the case's evidence.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from corpus.records import Query, Turn
from corpus.settings import CheckSettings
from corpus.text import normalise
from evals.cases import Case, contains_evidence
from evals.metrics import first_hit_rank, hit_at, mean, ndcg_at, percentile


@dataclass
class CaseResult:
    id: str
    question: str
    answerable: bool
    refused: bool
    answer: str
    hit_rank: int | None = None
    ndcg10: float = 0.0
    statements: int = 0
    citation_recall: float | None = None
    citation_precision: float | None = None
    cited_evidence: bool | None = None
    key_points_found: list[str] = field(default_factory=list)
    key_points_missed: list[str] = field(default_factory=list)
    latency_ms: float = 0.0
    citations: list[str] = field(default_factory=list)
    cited_pages: list[dict] = field(default_factory=list)  # {n, doc_id, page, pages, quote} of paged citations
    kind: str = "answer"  # "answer", "closest" (said not to be a direct answer), "premise" or "refusal"
    group: str = ""  # the question's language and its evidence's, "cy->cy", "en->en", "cy->en"; "cy refusal"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EvalRun:
    """One configuration's scores on one gold set."""

    config: str
    date: str
    corpus_version: str
    cases: int
    unanswerable: int
    metrics: dict
    results: list[CaseResult]
    pages: dict = field(default_factory=dict)  # the cited PDF pages checked against their quotes (evals/pages.py)
    groups: dict = field(default_factory=dict)  # metrics per `CaseResult.group`, where a set has more than one

    def summary(self) -> dict:
        """Everything but the per-case results."""
        return {k: v for k, v in asdict(self).items() if k != "results"}

    def to_dict(self) -> dict:
        return {**self.summary(), "results": [r.to_dict() for r in self.results]}


def corpus_version(catalog) -> str:
    """A short hash of the indexed documents' contents (`catalog`: the assistant's live catalog)."""
    digest = hashlib.sha256("".join(sorted(d.sha256 for d in catalog.documents.values())).encode()).hexdigest()
    return f"{len(catalog.documents)} docs/{digest[:12]}"


def _relevant(case: Case, text: str, doc_id: str) -> bool:
    return any(doc_id == d and contains_evidence(text, e) for e, d in zip(case.evidence, case.evidence_docs))


def score_case(case: Case, assistant, judge, threshold: float = CheckSettings.support_threshold) -> CaseResult:
    """Ask one case and score it: the answer, then retrieval (top 10) for the ranking metrics."""
    history = tuple(Turn(h.get("question", ""), h.get("answer", "")) for h in case.history)
    started = time.perf_counter()
    answer = assistant.ask_many([Query(case.question, history)])[0]
    latency = (time.perf_counter() - started) * 1000
    result = CaseResult(
        id=case.id, question=case.question, answerable=case.answerable, refused=answer.refused, kind=answer.kind,
        answer=answer.answer, latency_ms=round(latency, 1),
        citations=[f"[{c.n}] {c.doc_id} › {c.section}" for c in answer.citations],
        cited_pages=[{"n": c.n, "doc_id": c.doc_id, "page": c.page, "pages": list(c.pages), "quote": c.quote}
                     for c in answer.citations if c.pages],
    )
    if not case.answerable:
        return result
    searcher = (assistant.route(case.question) if hasattr(assistant, "route") else assistant).searcher
    ranked = searcher.search(answer.standalone_question or case.question, 10)  # any Searcher, the question's language's
    relevant = [_relevant(case, p.text, p.doc_id) for p in ranked]
    result.hit_rank = first_hit_rank(relevant)
    result.ndcg10 = round(ndcg_at(relevant, 10, len(set(case.evidence))), 4)
    text = normalise(answer.answer)
    result.key_points_found = [k for k in case.key_points if normalise(k) in text]
    result.key_points_missed = [k for k in case.key_points if normalise(k) not in text]
    if answer.refused:
        return result
    by_n = {c.n: c for c in answer.citations}
    result.cited_evidence = any(_relevant(case, c.text, c.doc_id) for c in answer.citations)
    recalls, precisions = [], []
    for sentence in answer.sentences:
        if not sentence.supported:
            recalls.append(0.0)
            continue
        cited = [by_n[n] for n in sentence.citations if n in by_n]
        together = " ".join(c.text for c in cited)
        supported = judge.support(sentence.text, together) >= threshold if cited else False
        recalls.append(1.0 if supported else 0.0)
        for c in cited:
            alone = judge.support(sentence.text, c.text) >= threshold
            rest = " ".join(o.text for o in cited if o is not c)
            needed = supported and not (rest and judge.support(sentence.text, rest) >= threshold)
            precisions.append(1.0 if alone or needed else 0.0)
    result.statements = len(answer.sentences)
    result.citation_recall = round(mean(recalls), 4) if recalls else None
    result.citation_precision = round(mean(precisions), 4) if precisions else None
    return result


def summarise(results: list[CaseResult]) -> dict:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.refused]
    statements = sum(r.statements for r in answered)
    weighted = lambda attr: (  # noqa: E731 (statement-weighted, as ALCE reports)
        sum((getattr(r, attr) or 0.0) * r.statements for r in answered if getattr(r, attr) is not None) / statements
        if statements
        else 0.0
    )
    kp_total = sum(len(r.key_points_found) + len(r.key_points_missed) for r in answered)
    latencies = [r.latency_ms for r in results]
    return {
        "hit@1": round(mean([hit_at([r.hit_rank == 1], 1) for r in answerable]), 4),
        "hit@5": round(mean([1.0 if r.hit_rank and r.hit_rank <= 5 else 0.0 for r in answerable]), 4),
        "mrr": round(mean([1.0 / r.hit_rank if r.hit_rank else 0.0 for r in answerable]), 4),
        "ndcg@10": round(mean([r.ndcg10 for r in answerable]), 4),
        "citation_recall": round(weighted("citation_recall"), 4),
        "citation_precision": round(weighted("citation_precision"), 4),
        "cited_evidence": round(mean([1.0 if r.cited_evidence else 0.0 for r in answered]), 4),
        "key_point_coverage": round(sum(len(r.key_points_found) for r in answered) / kp_total, 4) if kp_total else 0.0,
        # a "closest" answer says plainly the guidance does not answer the question, a "premise" answer that it
        # does not say what the question takes it to say: for a question it does not answer, either is the
        # refusal wanted; for one it does, a "premise" answer withholds the answer, a false refusal, and a
        # "closest" one is counted apart
        "refusal_rate_unanswerable": round(mean([1.0 if r.refused or r.kind in ("closest", "premise") else 0.0
                                                 for r in unanswerable]), 4),
        "hard_refusal_rate_unanswerable": round(mean([1.0 if r.refused else 0.0 for r in unanswerable]), 4),
        "premise_rate_unanswerable": round(mean([1.0 if r.kind == "premise" else 0.0 for r in unanswerable]), 4),
        "false_refusal_rate": round(mean([1.0 if r.refused or r.kind == "premise" else 0.0 for r in answerable]), 4),
        "closest_rate_answerable": round(mean([1.0 if r.kind == "closest" else 0.0 for r in answerable]), 4),
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
    }


def run(config: str, cases: list[Case], assistant, judge, version: str = "",
        threshold: float = CheckSettings.support_threshold) -> EvalRun:
    """Score every case with one configuration of an assistant (assistant/service.py; any object with its
    `ask_many`, `searcher` and `catalog`), its citations judged by `judge`."""
    from evals.pages import check_pages

    results = [score_case(case, assistant, judge, threshold) for case in cases]
    catalog = assistant.catalog()
    for case, result in zip(cases, results):
        result.group = group(case, catalog.documents)
    groups = {}
    if len({r.group for r in results}) > 1:
        for name in sorted({r.group for r in results}):
            groups[name] = {"cases": sum(r.group == name for r in results),
                            **summarise([r for r in results if r.group == name])}
    return EvalRun(
        config=config,
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        corpus_version=version or corpus_version(catalog),
        cases=len(cases),
        unanswerable=sum(1 for c in cases if not c.answerable),
        metrics=summarise(results),
        results=results,
        pages=check_pages(results, catalog.documents),
        groups=groups,
    )


def group(case: Case, documents: dict) -> str:
    """The case's question language and its evidence's ("cy->en": a Welsh question the English guidance
    answers), or "<language> refusal"; a document not in the index counts as English."""
    if not case.answerable:
        return f"{case.language} refusal"
    found = sorted({documents[d].provenance.language or "en" if d in documents else "en" for d in case.evidence_docs})
    return f"{case.language}->{'+'.join(found)}"

