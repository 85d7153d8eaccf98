"""Train, evaluate and apply sequence taggers (part of speech, named entities)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    check_at_least,
    check_choice,
    check_model,
)
from rnnkit.data.batching import BatchSource, BucketBatches, bucket_order
from rnnkit.data.conllu import TAG_COLUMNS
from rnnkit.data.registry import get_task_spec
from rnnkit.data.tagged import DataFormatError, TaggedSentence
from rnnkit.data.tagger_batches import collate, encode, word_form
from rnnkit.data.tags import bio_tag, bio_to_bioes, is_tag, to_bio
from rnnkit.data.vocab import PAD, Vocab
from rnnkit.models.tagger import Tagger, TaggerConfig, check_options
from rnnkit.pipelines.run import train_in_run_dir, write_results
from rnnkit.pipelines.tagger_data import FORMATS, TaggerDataConfig, read_split, write_predictions
from rnnkit.pipelines.tagger_embeddings import (
    EmbeddingConfig,
    check_embeddings,
    prepare_embeddings,
)
from rnnkit.training.bundle import load_model
from rnnkit.training.checkpoint import seed_everything, write_output_text
from rnnkit.training.tag_metrics import (
    confusion,
    confusion_table,
    span_f1_available,
    span_report,
    tag_scores,
)
from rnnkit.training.task import evaluating, move_to


@dataclass(frozen=True)
class TaggerRunConfig:
    AUTO_MONITOR: ClassVar[bool] = True  # train.monitor=auto: resolve_monitor picks the metric
    data: TaggerDataConfig = field(default_factory=TaggerDataConfig)
    embeddings: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    tagger: TaggerConfig = field(default_factory=TaggerConfig)
    model: ModelConfig = field(
        default_factory=lambda: ModelConfig(
            cell="lstm", hidden_size=256, bidirectional=True, init="torch"
        )
    )
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=30, batch_size=32, lr=2e-3, clip_norm=5.0, monitor="auto",
            mode="max", patience=5, lr_patience=2, lr_factor=0.5,
        )
    )


def gold_tags(sentences: Sequence[TaggedSentence]) -> list[list[str]]:
    """The sentences' tags; span tags read as BIO, IOB1 or BIOES come back as valid BIO (a
    CRF's rules forbid what IOB1 and broken BIO hold, and predictions are BIO)."""
    spans = span_f1_available([tag for s in sentences for tag in s.tags])
    return [to_bio(s.tags) if spans else list(s.tags) for s in sentences]


SCHEMES = ("bio", "bioes", "none")


def resolve_monitor(config: TaggerRunConfig, tags: Sequence[str],
                    log: Any = print) -> TaggerRunConfig:
    """``train.monitor=auto`` (the default) as the metric a tagger of ``tags`` is judged by:
    span F1 for entity tags (BIO/BIOES, as Flair selects its NER models), token accuracy for
    others (part of speech). Token accuracy alone can sit at the all-``O`` level for epochs
    while the entities are being learnt, and keep an epoch that finds none."""
    if config.train.monitor != "auto":
        return config
    monitor = "val_f1" if span_f1_available(tags) else "val_accuracy"
    log(f"train.monitor=auto: {monitor} judges the epochs")
    return replace(config, train=replace(config.train, monitor=monitor))


def check_run(config: TaggerRunConfig) -> None:
    """The settings checked before any data is read (also by ``--print-config``)."""
    check_model(config.model)
    check_options(config.tagger)
    if config.train.monitor == "auto" and config.train.mode == "min":  # before the data is read
        raise ConfigError("train.monitor=auto picks val_f1 or val_accuracy (by the tags), both "
                          "better when higher, but train.mode is 'min': set train.mode=max, or "
                          "name a metric better when lower (train.monitor=val_loss)")
    data = config.data
    check_choice(data.scheme, "data.scheme", SCHEMES)
    check_choice(data.column, "data.column", tuple(TAG_COLUMNS))
    if data.format:  # "": the registry dataset's
        check_choice(data.format, "data.format", FORMATS)
    if data.dataset:  # one of another task said 'data.format must be one of conllu, iob'
        get_task_spec(data.dataset, "tagging", "a tagger")  # (sst) or gave API advice
    check_at_least(data.min_count, "data.min_count", 1)  # below 1 kept every word, as 1 does
    check_embeddings(config.embeddings)


def _training_tags(sentences: list[TaggedSentence], scheme: str) -> list[list[str]]:
    check_choice(scheme, "data.scheme", SCHEMES)
    for s in sentences:  # the tag vocabulary's padding symbol: read as unknown, 'known: ...'
        if PAD in s.tags:
            raise DataFormatError(f"the tag {PAD} is the name of the tagger's padding tag; "
                                  "rename it in the data", s.source,
                                  s.line_number(s.tags.index(PAD)) if s.token_lines else None)
    gold = gold_tags(sentences)
    # every tag O, B-X, I-X...: a dev or test file of O tags only (no entity) is spans too
    if scheme == "bioes" and gold and not all(is_tag(t) for tags in gold for t in tags):
        names = sorted({t for tags in gold for t in tags})
        example = names[:5] + (["..."] if len(names) > 5 else [])
        raise ValueError(
            f"data.scheme=bioes turns entity span tags (O, B-X, I-X) into BIOES, but the tags of "
            f"{sentences[0].source or 'the data'} are not spans ({', '.join(example)}): "
            "leave data.scheme at bio for part of speech in CoNLL-U, or set none for an iob file"
        )
    return [bio_to_bioes(tags) for tags in gold] if scheme == "bioes" else gold


def train_tagger(
    config: TaggerRunConfig, out_dir: str | Path, resume: bool = False, log: Any = print
) -> dict[str, Any]:
    """Train on the configured data; evaluate on dev and test; save bundle and results."""
    check_run(config)
    data = config.data
    started = time.perf_counter()
    train, dev, test = (read_split(data, split) for split in ("train", "dev", "test"))
    log(f"read {len(train)} / {len(dev)} / {len(test)} sentences (train / dev / test)")
    lowercase = config.tagger.lowercase
    train_tags = _training_tags(train, data.scheme)
    dev_tags = _training_tags(dev, data.scheme)
    tags = Vocab.build(train_tags + dev_tags, unknown=False)
    unseen_tags(gold_tags(test), tags.symbols, data.scheme, "test")  # before, not after, training
    config = resolve_monitor(config, tags.symbols, log)
    chars = Vocab.build([list(t) for s in train for t in s.tokens])
    words = Vocab.build([[word_form(t, lowercase) for t in s.tokens] for s in train],
                        min_count=data.min_count)
    words, embeddings, coverage = prepare_embeddings(
        config.embeddings, words, train, config.tagger.word_dim, lowercase, log,
        config.train.seed,
    )
    seed_everything(config.train.seed)  # the initial weights follow the seed too
    model = Tagger(
        words, chars, tags, config.tagger, config.model, embeddings,
        freeze_embeddings=config.embeddings.freeze, data=data.reader_settings(),
    )

    def source(sentences: list[TaggedSentence], tag_lists: list[list[str]],
               shuffle: bool) -> BatchSource:
        encoded = [
            encode(s.tokens, t, words, chars, tags, lowercase)
            for s, t in zip(sentences, tag_lists, strict=True)
        ]
        return BucketBatches(encoded, collate, [len(e) for e in encoded],
                             config.train.batch_size if shuffle else 256, shuffle,
                             config.train.seed)

    test_tags = _training_tags(test, data.scheme)
    # test scores per epoch, for the time-to-accuracy record only (never for selection)
    observe: dict[str, BatchSource] = {}
    if all(t in tags for sequence in test_tags for t in sequence):
        observe["test"] = source(test, test_tags, False)
    train_batches = source(train, train_tags, True)
    result = train_in_run_dir(
        model, config, out_dir, train_batches, source(dev, dev_tags, False), resume, log,
        observe=observe,
    )
    model.to("cpu")
    train_seconds = result.seconds
    tokens = sum(len(s) for s in train)
    epochs_done = len(result.history)
    # the batches of an epoch train.max_steps cut short count too (one step a batch)
    steps_in_part = result.steps - (int(result.history[-1]["steps"]) if epochs_done else 0)
    trained = tokens * epochs_done + sum(
        int(batch.lengths.sum()) for batch in islice(train_batches.batches(epochs_done),
                                                     steps_in_part))
    results: dict[str, Any] = {
        "train_sentences": len(train),
        "train_tokens": tokens,
        "epochs": epochs_done,
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "train_seconds": round(train_seconds, 1),
        "tokens_per_second": round(trained / max(train_seconds, 1e-9), 1),
        "kernel": model.encoder.kernel,
        "parameters": sum(p.numel() for p in model.parameters()),
        "embedding_coverage": coverage,
        "history": result.history,
    }
    out = Path(out_dir)
    for name, sentences in (("dev", dev), ("test", test)):
        results[name] = evaluate_sentences(model, sentences, out, name)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    write_results(results, out / "results.json")
    summary = ", ".join(f"{k} {v:.4f}" for k, v in results["test"]["scores"].items())
    log(f"test: {summary}")
    return results


def predict_tags(model: Tagger, token_lists: Sequence[Sequence[str]], batch_size: int = 256
                 ) -> list[list[str]]:
    """Tags for each tokenized sentence, in the input's order (BIO output always valid)."""
    # a list: a generator of sentences would be used up by the check for strings
    token_lists = [token_lists] if isinstance(token_lists, str) else list(token_lists)
    strings = [tokens for tokens in token_lists if isinstance(tokens, str)]
    if strings:
        raise TypeError(f"predict_tags takes tokenized sentences (lists of tokens), got the "
                        f"string {strings[0][:40]!r}; split it into tokens first")
    _check_tokens(token_lists)
    with evaluating(model):  # its mode (train or eval) is given back after
        lowercase = model.config.lowercase
        encoded = [encode(tokens, None, model.words, model.chars, model.tags, lowercase)
                   for tokens in token_lists]
        predicted: list[list[str]] = [[] for _ in encoded]
        device = next(model.parameters()).device
        for chunk in bucket_order([len(e) for e in encoded], batch_size, None):
            batch = collate([encoded[i] for i in chunk])
            batch = move_to(batch, device)
            for index, ids in zip(chunk, model.predict_ids(batch), strict=True):
                predicted[index] = model.output_tags(ids)
        return predicted


def _check_tokens(token_lists: Sequence[Sequence[str]]) -> None:
    """Refuse a token that is not a word: empty (the file readers refuse it too) or no string."""
    for number, tokens in enumerate(token_lists, 1):
        for position, token in enumerate(tokens, 1):
            if token and isinstance(token, str):
                continue  # the message below is built for the one bad token only
            where = f"sentence {number}, token {position}"
            if not isinstance(token, str):
                raise TypeError(f"{where} is {token!r}, not a string: pass each token as a str")
            raise ValueError(f"{where} is empty: drop empty tokens (split at whitespace with "
                             "str.split(), not str.split(' '))")


def evaluate_sentences(model: Tagger, sentences: list[TaggedSentence], out: Path | None,
                       name: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scores, per-type report, confusion matrix (table + PNG) and written predictions, in the
    format the sentences were read with (``settings``; None: the model's training data's)."""
    started = time.perf_counter()
    gold = gold_tags(sentences)
    predicted = predict_tags(model, [s.tokens for s in sentences])
    seconds = time.perf_counter() - started
    spans = span_f1_available(model.tags.symbols)
    unknown = unseen_tags(gold, model.tags.symbols, model.data.get("scheme", "bio"), name)
    tokens = sum(len(g) for g in gold)
    result: dict[str, Any] = {
        "sentences": len(sentences),
        "tokens": tokens,
        "scores": tag_scores(gold, predicted, spans),
        "tokens_per_second": round(tokens / max(seconds, 1e-9), 1),
    }
    if unknown:
        result["unknown_gold_tags"] = unknown  # never predicted: every such token is an error
    if spans:
        result["per_type"] = span_report(gold, predicted)
    labels, matrix = confusion(gold, predicted)
    result["confusion"] = {"labels": labels, "matrix": matrix}
    if out is not None:
        from rnnkit.viz.confusion import plot_confusion

        out.mkdir(parents=True, exist_ok=True)
        write_output_text(out / f"{name}_confusion.md", confusion_table(labels, matrix) + "\n")
        plot_confusion(labels, matrix, out / f"{name}_confusion.png", title=f"{name} confusion")
        if sentences and sentences[0].lines:
            settings = settings or model.data
            path = out / f"{name}.predictions.{settings['format']}"
            write_predictions(sentences, predicted, path, settings)
    return result


def unseen_tags(gold: Sequence[Sequence[str]], tags: Sequence[str], scheme: str,
                name: str) -> list[str]:
    """The gold tags (BIO for spans) that a model of ``tags`` never predicts, sorted.

    Raises:
        ValueError: another tag set, not a rare tag or two: more than half of the tokens carry
            such tags, or for entity tags more than half of the tokens inside entities (``O``,
            which every entity tag set shares, is most tokens: a set of other types hid
            behind it and scored 0).
    """
    known = set(tags) - {PAD}  # padding is a tag id, never a prediction
    if scheme == "bioes":  # as BIO, as predictions are
        known = {bio_tag(t) if is_tag(t) else t for t in known}
    unknown = sorted({t for g in gold for t in g} - known)
    spans = span_f1_available(tags)
    judged = [t for g in gold for t in g if not (spans and t == "O")]
    strangers = sum(t not in known for t in judged)
    if strangers > 0.5 * len(judged):
        predicts = sorted(known)
        which = "entity tokens" if spans else "tokens"
        raise ValueError(f"{strangers} of the {len(judged)} {name} {which} carry "
                         f"tags the model never saw ({', '.join(unknown[:8])}"
                         f"{', ...' if len(unknown) > 8 else ''}); it predicts "
                         f"{', '.join(predicts[:8])}{', ...' if len(predicts) > 8 else ''}. "
                         "Evaluate it on data with its own tag set")
    return unknown


def load_tagger_bundle(bundle: str | Path) -> Tagger:
    """A saved tagger, checked to be one."""
    return load_model(bundle, Tagger)
