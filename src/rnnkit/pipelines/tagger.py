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
from rnnkit.data.batching import BatchSource, BucketBatches
from rnnkit.data.conllu import TAG_COLUMNS
from rnnkit.data.registry import get_task_spec
from rnnkit.data.tagged import DataFormatError, TaggedSentence
from rnnkit.data.tagger_batches import collate, encode, word_form
from rnnkit.data.tags import bio_to_bioes, is_tag, span_f1_available
from rnnkit.data.vocab import PAD, Vocab
from rnnkit.models.tagger import Tagger, TaggerConfig, check_options
from rnnkit.pipelines.run import total_seconds, train_in_run_dir, write_results
from rnnkit.pipelines.tagger_data import FORMATS, TaggerDataConfig, read_split
from rnnkit.pipelines.tagger_embeddings import (
    EmbeddingConfig,
    check_embeddings,
    prepare_embeddings,
)
from rnnkit.pipelines.tagger_scoring import evaluate_sentences, gold_tags, unseen_tags
from rnnkit.training.bundle import load_model
from rnnkit.training.checkpoint import seed_everything


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
    data.reader_settings()  # no data.format and no dataset to take one from: refused here,
    # not once per process of --nproc N after the launch (nor after --print-config)
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
    unseen_tags(gold_tags(test), tags.symbols, data.scheme, "test",  # before training
                test_file=str(data.path("test")))
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
    results["total_seconds"] = total_seconds(started, result)
    write_results(results, out / "results.json")
    summary = ", ".join(f"{k} {v:.4f}" for k, v in results["test"]["scores"].items())
    log(f"test: {summary}")
    return results


def load_tagger_bundle(bundle: str | Path) -> Tagger:
    """A saved tagger, checked to be one."""
    return load_model(bundle, Tagger)
