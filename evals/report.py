"""Writes an eval run as Markdown with a chart, saves it for comparison over time, and applies the gate."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from evals.run import EvalRun

THRESHOLDS = Path(__file__).with_name("thresholds.toml")
SHOWN = ["hit@1", "hit@5", "mrr", "ndcg@10", "citation_recall", "citation_precision", "cited_evidence",
         "key_point_coverage", "refusal_rate_unanswerable", "false_refusal_rate", "latency_p50_ms", "latency_p95_ms"]


def table(runs: list[EvalRun]) -> str:
    """The metrics of each configuration side by side, as a Markdown table."""
    head = "| metric | " + " | ".join(r.config for r in runs) + " |"
    rule = "| --- | " + " | ".join("---:" for _ in runs) + " |"
    rows = [f"| {m} | " + " | ".join(f"{r.metrics[m]:.3f}" if "ms" not in m else f"{r.metrics[m]:.0f}" for r in runs) + " |"
            for m in SHOWN]
    return "\n".join([head, rule, *rows])


def groups_table(run: EvalRun) -> str:
    """One configuration's metrics per group of cases (question and evidence language), or "" with one group."""
    if not run.groups:
        return ""
    names = list(run.groups)
    head = "| metric | " + " | ".join(f"{n} ({run.groups[n]['cases']})" for n in names) + " |"
    rule = "| --- | " + " | ".join("---:" for _ in names) + " |"
    shown = [m for m in SHOWN if "ms" not in m] + ["closest_rate_answerable"]
    rows = [f"| {m} | " + " | ".join(f"{run.groups[n][m]:.3f}" for n in names) + " |" for m in shown]
    return "\n".join([head, rule, *rows])


def save_runs(runs: list[EvalRun], folder: Path) -> list[Path]:
    """Keep each run as JSON named by date and configuration, so runs can be compared over time."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for run in runs:
        path = folder / f"{run.date.replace(':', '')}-{run.config}.json"
        path.write_text(json.dumps(run.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def chart(runs: list[EvalRun], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in SHOWN if "ms" not in m]
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=110)
    width = 0.8 / max(len(runs), 1)
    for i, run in enumerate(runs):
        ax.bar([x + i * width for x in range(len(metrics))], [run.metrics[m] for m in metrics], width, label=run.config)
    ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(metrics))], metrics, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_title(f"procure-ai eval, {runs[0].cases} cases ({runs[0].unanswerable} to refuse), {runs[0].date[:10]}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def markdown(runs: list[EvalRun], chart_name: str | None) -> str:
    first = runs[0]
    lines = [
        f"# procure-ai evaluation, {first.date}",
        "",
        f"{first.cases} cases, {first.unanswerable} of them to refuse; corpus {first.corpus_version}.",
        "",
        table(runs),
        "",
    ]
    if chart_name:
        lines += [f"![metrics by configuration]({chart_name})", ""]
    lines += ["## Per question", "", "| case | " + " | ".join(f"{r.config}: rank / refused / key points" for r in runs) + " |",
              "| --- | " + " | ".join("---" for _ in runs) + " |"]
    for i, result in enumerate(first.results):
        cells = []
        for run in runs:
            r = run.results[i]
            found = len(r.key_points_found)
            total = found + len(r.key_points_missed)
            rank = "-" if not r.answerable else (str(r.hit_rank) if r.hit_rank else "miss")
            cells.append(f"{rank} / {'refused' if r.refused else 'answered'} / {found}/{total}")
        lines.append(f"| {result.id} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(runs: list[EvalRun], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    chart(runs, folder / "chart.png")
    path = folder / "report.md"
    path.write_text(markdown(runs, "chart.png"), encoding="utf-8")
    return path


def gate(run: EvalRun, thresholds: Path = THRESHOLDS) -> list[str]:
    """The metrics that fall below their minimum (or above their maximum); empty when the run passes."""
    limits = tomllib.loads(thresholds.read_text(encoding="utf-8"))
    failures = []
    for metric, floor in limits.get("minimum", {}).items():
        if run.metrics[metric] < floor:
            failures.append(f"{metric} = {run.metrics[metric]:.3f}, below the minimum {floor}")
    for metric, ceiling in limits.get("maximum", {}).items():
        if run.metrics[metric] > ceiling:
            failures.append(f"{metric} = {run.metrics[metric]:.3f}, above the maximum {ceiling}")
    return failures
