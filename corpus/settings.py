"""Every setting and tuning number, with its default, in one tree; read from the environment and flags here alone.

Each part of the flow takes its own branch (`settings.retrieval`, `settings.answers`, ...)
through its constructor, so a test or an eval passes a changed copy
(`dataclasses.replace`) rather than patching anything. `Settings.load` applies,
in order, the defaults below, the `PROCURE_AI_*` environment variables (`ENV`),
then command-line flags given as dotted names ("retrieval.top_k").
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from urllib.parse import urlparse


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "procure-ai"


@dataclass(frozen=True)
class IngestSettings:
    """How documents become passages."""

    chunk_tokens: int = 220  # the largest passage, in the embedder's word pieces (its window is 256)
    embed_batch: int = 64  # passages embedded per model call
    store_page: int = 500  # rows per Chroma call, which keeps server requests small
    verify_sample: int = 256  # live passages looked up to check the store holds the index (ask, serve, remove)
    verify_all_max: int = 100_000  # ingest looks up every live passage in the store up to this many


@dataclass(frozen=True)
class RetrievalSettings:
    """How passages are found and fused (index/search.py)."""

    mode: str = "hybrid"  # hybrid, dense or keyword
    top_k: int = 5  # passages handed to the answerer
    candidates: int = 100  # taken from each retriever before fusion
    keyword_weight: float = 0.5  # BM25's weight in the z-score fusion (the passage cosine weighs 1)
    sentence_weight: float = 0.5  # the closest sentence's cosine, likewise
    expand: int = 1  # neighbouring chunks of the same section joined to a passage
    children: int = 2  # chunks of its own subsections a section's passage may take in after it
    max_words: int = 400  # ... while the passage stays within this many words
    exact_max: int = 1000  # a scope of at most this many passages is searched exactly over its vectors
    overfetch_max: int = 2000  # a larger one: at most this many unfiltered neighbours, those in scope kept


@dataclass(frozen=True)
class AnswerSettings:
    """How the offline answerer picks what to quote (assistant/extractive.py)."""

    word_budget: int = 150  # words of quoted guidance; the first pick is always taken (130 until 2026-12-03)
    per_passage: int = 4  # picks from one passage at most
    prefilter: int = 20  # sentences, by lexical score, re-scored by embedding
    rank_prior: float = 0.25  # what a sentence gains from its passage ranking first (divided by the rank)
    similarity: float = 0.7  # the embedding's share of the re-score; the rest is lexical
    cutoff: float = 0.6  # a pick must score at least this share of the best
    repeat_overlap: float = 0.5  # word overlap (Jaccard) above which a pick repeats an earlier one
    list_words: int = 80  # a longer list is not quoted whole (its items may be, one by one)
    max_sentences: int | None = None  # an optional cap on top of the budget
    follow: bool = True  # a quoted sentence brings the next one of its paragraph, within the budget
    lean: bool = True  # a quoted sentence that leans on the one before ("They ...") brings that one too
    max_question_chars: int = 2000  # a longer question is refused as too long


@dataclass(frozen=True)
class CheckSettings:
    """How each answer sentence is checked against the passage it cites (assistant/verify.py)."""

    support_threshold: float = 0.55  # a citation scoring under this is dropped
    semantic_share: float = 0.5  # the embedding's share of the support score; the rest is lexical
    number_penalty: float = 0.5  # lexical support is multiplied by this when the claim has a number the passage lacks
    passage_sentences: int = 40  # sentences of a passage compared with a claim


@dataclass(frozen=True)
class RefusalSettings:
    """When the assistant says the guidance does not cover a question (assistant/refusal.py)."""

    min_similarity: float = 0.36  # without the judge: refuse when no passage's cosine with the question reaches this
    # with the judge: refuse whatever it says when no passage's cosine reaches this (nothing in the guidance is about
    # the question: a poem, a recipe); where 1 in 1,000 answerable training questions falls under it with the tuned
    # embedder (evals/results/judge.md)
    topic_similarity: float = 0.2
    nearest_topics: int = 3  # topics named in a refusal


@dataclass(frozen=True)
class JudgeSettings:
    """The trained judge (assistant/judge/): which units it reads, and what its scores decide."""

    enabled: bool = True  # off: the answerer's own scores and a similarity floor decide (for comparison)
    pool: int = 20  # passages retrieved for the judge to rerank into the top_k: a wide pool costs little, since the
    # judge reads only `units` units of it, chosen by the cheap scores (evals/results/judge.md has the choice)
    units: int = 8  # units (sentences, lists) it reads, the best by the cheap scores first
    max_tokens: int = 128  # word pieces of question and unit together
    workers: int = 0  # pairs read side by side, each on one core (0: one per core); a single short pair gains
    # nothing from a second thread, two pairs side by side take half the time each (evals/results/judge.md)
    rerank_weight: float = 0.5  # the best unit's logit against the passage's fused retrieval z-score
    # answerability (assistant/judge/answerable.py) at or above `answer`: answered; from `closest` up to it:
    # "does not answer directly; the closest it says is"; below: refused. None: the cut-offs `procure-ai train`
    # picked on its validation questions, in the model's answerable.json
    answer: float | None = None
    closest: float | None = None
    blend: float = 0.5  # a unit's score for quoting: this share the judge's probability, the rest its cheap score
    pick: float = 0.5  # a unit below this share of the best unit's score is not quoted
    # the premise check (assistant/judge/premise.py): the best `premise_units` units the judge reads, by the cheap
    # scores, are read again for whether they contradict what the question takes the guidance to say; at or over
    # `premise_cut` (None: the cut-off `procure-ai train` picked, in premise/card.json) the answer says so and quotes them
    premise: bool = True
    premise_units: int = 4
    premise_cut: float | None = None
    # under `premise_cut` but at or over `premise_doubt` (None: the one `procure-ai train` picked, in premise.json), an
    # answer the answerability model would give plainly is hedged ("does not answer this directly; the closest it says
    # is"): the premise check is unsure, and a false premise in the guidance's own words is otherwise answered as fact
    premise_doubt: float | None = None


@dataclass(frozen=True)
class TrainingSettings:
    """How `procure-ai train` builds the judge from evals/train/ (fixed seed: the same data gives the same model)."""

    seed: int = 20261130
    layers: int = 6  # all of MiniLM's: eight units a question read by six layers cost what sixteen read by three did
    epochs: int = 1  # one pass: a second costs as long again on 2 cores for little (evals/results/judge.md)
    batch: int = 32
    body_lr: float = 5e-5
    head_lr: float = 1e-3
    warmup: float = 0.1  # share of the steps the learning rate rises over
    negatives: int = 8  # units that do not answer, per question
    passages: int = 8  # retrieved per question to find them in
    validation: float = 0.1  # share of questions kept apart to pick thresholds and report on
    false_refusals: float = 0.01  # the `closest` cut-off refuses at most this share of answerable validation questions
    # (0.02 from 2026-12-02, when at 0.01 "Tell me a joke." was answered as "the closest it says"; the form feature
    # refuses such questions now, and 0.02 refused more answerable gold and dev questions: evals/results/judge.md)
    unanswerable_answered: float = 0.25  # the `answer` cut-off answers at most this share of unanswerable ones
    answerability_hidden: int = 16  # units in the answerability model's one hidden layer
    answerability_alpha: float = 0.01  # its L2 penalty
    form_c: float = 1.0  # inverse L2 penalty of the form model (assistant/judge/answerable.py), a logistic regression
    form_folds: int = 5  # folds its out-of-fold scores for the answerability network's training rows come from
    premise_answerable: int = 1500  # answerable training questions whose units teach the premise check what holds
    premise_layers: int = 6  # the premise check keeps all of MiniLM's layers: it reads only a few units
    premise_epochs: int = 3  # the epoch with the best validation pair AUC is kept
    premise_false_flags: float = 0.01  # its cut-off flags at most this share of answerable validation questions
    premise_doubts: float = 0.03  # its `premise_doubt` cut-off hedges at most this share of them (mostly true premises)
    retriever_epochs: int = 1  # the embedder's tuning (assistant/judge/retriever.py): passes over the examples
    retriever_lr: float = 3e-5
    retriever_frozen: int = 2  # its first layers kept as bundled (with the word pieces): quicker, a smaller file
    retriever_scale: float = 20.0  # cosine times this is the ranking loss's logit (sentence-transformers' default)
    retriever_pool: int = 10  # passages of the untuned search a hard negative is taken from
    retriever_positives: int = 2  # examples per question at most (one per passage holding its evidence)


@dataclass(frozen=True)
class LanguageSettings:
    """Questions in Welsh (assistant/language.py): answered from the Welsh documents, in a Welsh frame."""

    welsh: bool = True  # off: every question takes the English path (the judge), as before
    welsh_coverage: float = 0.5  # Welsh passages answer when they hold this share of the question's words


@dataclass(frozen=True)
class ConversationSettings:
    """How a follow-up is made standalone (assistant/followup.py)."""

    followup: float = 0.5  # a chat question the judge finds this likely to need the one before it is read with it
    short_question_words: int = 8  # a shorter follow-up leans on the question before it


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible endpoint that writes answers instead of the offline answerer."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_s: float = 120.0
    max_tokens: int = 400


@dataclass(frozen=True)
class ServerSettings:
    """`procure-ai serve`: where it listens, who may use it, how much it does at once."""

    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = None  # USER:PASSWORD
    api_key: str | None = None  # a key OpenAI-compatible clients send as `Authorization: Bearer KEY` on /v1
    audit_log: bool = True  # every question serve or mcp answers is kept in DATA_DIR/audit.sqlite3
    max_passages: int = 20  # most passages one MCP search_guidance call returns
    concurrency: int = 4  # questions answered at once
    max_queue: int = 64  # questions waiting beyond those
    max_body_bytes: int = 1_000_000  # a larger POST /api/ask body is refused (413)
    reveal_seconds: float = 0.5  # an offline answer is revealed within this time
    stream_interval_s: float = 0.04  # at most one streamed update per this interval


@dataclass(frozen=True)
class Settings:
    """The whole tree. See README "Configuration" (a test keeps the two in step)."""

    data_dir: Path = field(default_factory=_default_data_dir)
    chroma_url: str | None = None
    embed_model: str | None = None
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answers: AnswerSettings = AnswerSettings()
    check: CheckSettings = CheckSettings()
    refusals: RefusalSettings = RefusalSettings()
    judge: JudgeSettings = JudgeSettings()
    training: TrainingSettings = TrainingSettings()
    conversation: ConversationSettings = ConversationSettings()
    languages: LanguageSettings = LanguageSettings()
    llm: LLMSettings = LLMSettings()
    server: ServerSettings = ServerSettings()

    # environment variable -> setting (dotted)
    ENV: typing.ClassVar[dict[str, str]] = {
        "PROCURE_AI_DATA_DIR": "data_dir",
        "PROCURE_AI_CHROMA_URL": "chroma_url",
        "PROCURE_AI_EMBED_MODEL": "embed_model",
        "PROCURE_AI_CHUNK_TOKENS": "ingest.chunk_tokens",
        "PROCURE_AI_TOP_K": "retrieval.top_k",
        "PROCURE_AI_SEARCH_MODE": "retrieval.mode",
        "PROCURE_AI_LLM_BASE_URL": "llm.base_url",
        "PROCURE_AI_LLM_MODEL": "llm.model",
        "PROCURE_AI_LLM_API_KEY": "llm.api_key",
        "PROCURE_AI_AUTH": "server.auth",
        "PROCURE_AI_API_KEY": "server.api_key",
    }

    @classmethod
    def load(cls, environ: dict | None = None, **flags) -> "Settings":
        """Defaults, then environment variables, then flags that are not None.

        Flags are keyword arguments named by dotted path with "__" for "." (`retrieval__top_k=3`)
        or by their plain name when it is unique in the tree (`top_k=3`, `data_dir=...`).
        Raises ValueError naming the setting for a value that does not fit.
        """
        environ = os.environ if environ is None else environ
        values = {path: environ[var] for var, path in cls.ENV.items() if environ.get(var)}
        for name, value in flags.items():
            if value is not None:
                values[_resolve(name)] = value
        settings = cls()
        for path, value in values.items():
            settings = _set(settings, path.split("."), value)
        return settings.validated()

    def get(self, path: str):
        """A setting by its dotted path ("retrieval.top_k")."""
        node = self
        for part in path.split("."):
            node = getattr(node, part)
        return node

    def with_values(self, **flags) -> "Settings":
        """A copy with some settings changed, named as in `load`."""
        settings = self
        for name, value in flags.items():
            settings = _set(settings, _resolve(name).split("."), value)
        return settings.validated()

    def validated(self) -> "Settings":
        """This tree, or ValueError naming the first setting out of range."""
        if self.retrieval.mode not in ("hybrid", "dense", "keyword"):
            raise ValueError(f"search mode must be hybrid, dense or keyword, not {self.retrieval.mode!r}")
        for url, what in ((self.chroma_url, "Chroma URL"), (self.llm.base_url, "LLM base URL")):
            if url:
                parsed = urlparse(url)
                if parsed.scheme not in ("http", "https") or not parsed.hostname:
                    raise ValueError(f"bad {what} {url!r}: use http://host:port")
        if not 1 <= self.retrieval.top_k <= 50:
            raise ValueError("top_k must be between 1 and 50")
        if not 32 <= self.ingest.chunk_tokens <= 512:
            raise ValueError("chunk_tokens must be between 32 and 512")
        if self.server.auth is not None:
            user, _, password = self.server.auth.partition(":")
            if not user or not password:
                raise ValueError("--auth takes USER:PASSWORD, both non-empty")
        if self.server.api_key is not None and (not self.server.api_key or any(c.isspace() for c in self.server.api_key)):
            raise ValueError("--api-key must be non-empty, without spaces")
        if not 1 <= self.server.concurrency <= 256:
            raise ValueError("concurrency must be between 1 and 256")
        if not 1 <= self.server.port <= 65535:
            raise ValueError(f"port must be between 1 and 65535, not {self.server.port}")
        return self


def leaves(node=None, prefix: str = "") -> dict[str, object]:
    """Every setting of the tree as {dotted path: default}."""
    node = Settings() if node is None else node
    out: dict[str, object] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if is_dataclass(value):
            out.update(leaves(value, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def _resolve(name: str) -> str:
    """A flag's name as a dotted path: "retrieval__top_k" or a unique leaf name such as "top_k"."""
    path = name.replace("__", ".")
    known = leaves()
    if path in known:
        return path
    matches = [p for p in known if p.rsplit(".", 1)[-1] == path]
    if len(matches) != 1:
        raise ValueError(f"unknown setting {name!r}" if not matches else f"ambiguous setting {name!r}: {matches}")
    return matches[0]


def _set(node, path: list[str], value):
    """A copy of `node` with the setting at `path` set to `value`, converted to the field's type."""
    f = next((f for f in fields(node) if f.name == path[0]), None)
    if f is None:
        raise ValueError(f"unknown setting {'.'.join(path)!r}")
    if len(path) > 1:
        return replace(node, **{f.name: _set(getattr(node, f.name), path[1:], value)})
    return replace(node, **{f.name: _convert(f.name, typing.get_type_hints(type(node))[f.name], value)})


def _convert(name: str, kind, value):
    if value is None:
        return None
    args = [a for a in typing.get_args(kind) if a is not type(None)] or [kind]
    target = args[0]
    if target is Path:
        return Path(value).expanduser()
    if target is bool and isinstance(value, str):
        if value.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"{name} must be on or off, not {value!r}")
        return value.strip().lower() in ("1", "true", "yes", "on")
    if target in (int, float) and not isinstance(value, (int, float)) or (target is int and isinstance(value, float)):
        try:
            return target(value)
        except ValueError:
            raise ValueError(f"{name} must be a {'whole ' if target is int else ''}number, not {value!r}") from None
    return value


def offline_environment() -> None:
    """Make sure no library reaches out to the network or phones home (set before they are imported)."""
    for var, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }.items():
        os.environ.setdefault(var, value)
