"""Train, evaluate and apply sequence classifiers on texts or numeric sequences."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    changed_keys,
    check_at_least,
    check_choice,
    check_files_beside_dataset,
    check_fraction,
    check_model,
)
from rnnkit.data.numeric_sequences import NumericSequence
from rnnkit.data.sst import SCHEMES
from rnnkit.data.text_labels import TRUNCATIONS
from rnnkit.data.vocab import Vocab
from rnnkit.models.classifier import SequenceClassifier
from rnnkit.models.classifier_options import (
    CLASS_WEIGHTS,
    ClassifierConfig,
    check_labels_per_example,
    check_options,
)
from rnnkit.pipelines.classifier_checks import (
    check_dev_fraction,
    check_feature_columns,
    check_numbers,
    check_read_settings,
    check_sst_settings,
    warn_case_variants,
)
from rnnkit.pipelines.classifier_data import (
    FORMATS,
    ClassifierDataConfig,
    Example,
    check_dataset,
    check_labels,
    example_labels,
    has_dev_file,
    label_order,
    read_splits,
    with_named_features,
    word_vocab,
)
from rnnkit.pipelines.classifier_scoring import evaluate_examples, source
from rnnkit.pipelines.classifier_scoring import (  # re-exported: tests import it from here
    predict_probabilities as predict_probabilities,
)
from rnnkit.pipelines.run import total_seconds, train_in_run_dir, write_results
from rnnkit.pipelines.temperature_fit import calibrate_classifier
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.training.bundle import load_model
from rnnkit.training.checkpoint import seed_everything


@dataclass(frozen=True)
class VectorsConfig:
    """Pretrained word vectors for a text classifier (none: embeddings learned from scratch)."""

    vectors: str = ""  # word2vec text/binary or GloVe file (e.g. rnnkit word2vec's output)
    freeze: bool = False  # keep the vectors fixed during training
    extend_vocab: int = 0  # add the first this many of the vectors' words (lowercased with
    # data.lowercase: Tampa as tampa) to the vocabulary


@dataclass(frozen=True)
class ClassifierRunConfig:
    data: ClassifierDataConfig = field(default_factory=ClassifierDataConfig)
    embeddings: VectorsConfig = field(default_factory=VectorsConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    model: ModelConfig = field(
        default_factory=lambda: ModelConfig(cell="lstm", hidden_size=150, bidirectional=True,
                                            init="torch")
    )
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=10, batch_size=32, lr=1e-3, clip_norm=5.0, monitor="val_accuracy",
            mode="max", patience=3, lr_patience=1, lr_factor=0.5,
        )
    )


def check_run(config: ClassifierRunConfig) -> None:
    """The settings checked before any data is read (also by ``--print-config``)."""
    check_model(config.model)
    options, data = config.classifier, config.data
    check_options(options)
    check_choice(data.format, "data.format", FORMATS)
    check_choice(data.truncate, "data.truncate", TRUNCATIONS)
    check_choice(data.sst_labels, "data.sst_labels", SCHEMES)
    check_at_least(data.min_count, "data.min_count", 1)  # below 1 kept every word, as 1 does
    check_at_least(data.max_tokens, "data.max_tokens", 0)  # 0 keeps all; below 0 did too
    check_at_least(config.embeddings.extend_vocab, "embeddings.extend_vocab", 0)
    check_fraction(data.dev_fraction, "data.dev_fraction")  # --print-config printed -1
    check_dataset(data)
    check_sst_settings(data)
    check_dev_fraction(data)
    check_read_settings(data, changed_keys("classifier", options, ClassifierConfig(), (
        "word_dim", "word_dropout")) + ["embeddings.vectors"] * bool(config.embeddings.vectors))
    check_feature_columns(data)
    if options.output == "linear" and options.class_weights != "none":
        raise ConfigError(f"classifier.class_weights={options.class_weights} weighs classes, "
                          "and classifier.output=linear learns numbers: leave it out")
    unread = changed_keys("embeddings", config.embeddings, VectorsConfig(),
                          ("freeze", "extend_vocab"))
    if unread and not config.embeddings.vectors:
        raise ConfigError(f"{' and '.join(unread)} act{'' if len(unread) > 1 else 's'} on "
                          "pretrained word vectors, and "
                          "embeddings.vectors gives none: set it to a vectors file, or leave "
                          f"{'them' if len(unread) > 1 else 'it'} out")
    check_files_beside_dataset(data)
    if config.embeddings.vectors:  # else refused only once the data was read
        from rnnkit.embeddings.pretrained import check_vectors_setting

        check_vectors_setting(config.embeddings.vectors)


def _vectors(config: VectorsConfig, words: Vocab, dim: int, log: Any, lowercase: bool = True,
             seed: int = 0) -> tuple[Vocab, Tensor | None, dict[str, Any] | None]:
    if not config.vectors:
        return words, None, None
    from rnnkit.embeddings.vocabulary import fit_vocabulary, vectors_for

    picked = vectors_for(config.vectors, words, config.extend_vocab)  # the rows looked up
    vectors = picked.vectors
    if vectors.vector_size != dim:
        raise ValueError(f"the word vectors have size {vectors.vector_size} but"
                         f" classifier.word_dim is {dim}; set classifier.word_dim="
                         f"{vectors.vector_size}")
    # words below data.min_count stay <unk> (documented), vector or not
    words, matrix, coverage = fit_vocabulary(vectors, words, config.extend_vocab, lowercase,
                                             keep_rare=False, log=log, seed=seed,
                                             std=picked.std)
    return words, matrix, coverage.to_dict()


def _class_weights(config: ClassifierConfig, train: list[Example], labels: list[str],
                   multi_label: bool = False) -> list[float] | None:
    """Balanced weights: ``n / (K * count)`` per class (the softmax's, and a binary sigmoid's
    pair); for multi-label, each label's positive weight ``negatives / positives`` (the
    sigmoid's ``pos_weight``, where 1 is neutral)."""
    if config.class_weights == "none":
        return None
    check_choice(config.class_weights, "classifier.class_weights", CLASS_WEIGHTS)
    counts = Counter(label for e in train for label in example_labels(e))
    if multi_label:
        return [max(len(train) - counts[label], 1) / max(counts[label], 1) for label in labels]
    return [len(train) / (len(labels) * max(counts[label], 1)) for label in labels]


def build_model(config: ClassifierRunConfig, train: list[Example], log: Any = print,
                texts: list[Example] | None = None
                ) -> tuple[SequenceClassifier, dict[str, Any] | None]:
    """The untrained classifier: labels, vocabulary or scaler from the training split only
    (``texts``: where ``data.min_count`` counts the words, see :func:`word_vocab`)."""
    data, output = config.data, config.classifier.output
    settings = data.reader_settings()
    multi_label = bool(data.label_separator)
    if output == "linear":
        labels = [data.label_field]
    else:
        labels = label_order(data, {label for e in train for label in example_labels(e)})
        if len(labels) < 2 and not multi_label:
            where = data.train or data.dataset
            raise ValueError(f"the training data ({where}) holds examples of one label only, "
                             f"{labels[0]!r}: a classifier needs at least 2 labels; give "
                             f"training examples of each (is data.label_field={data.label_field!r} "
                             "the label column?)")
    words, matrix, coverage, features = None, None, None, 0
    if output == "linear":  # the head learns standardized targets (training examples only)
        values = np.array([[float(label) for label in example_labels(e)] for e in train])
        scaler = StandardScaler().fit(values)  # [N, 1]; a constant target gets scale 1
        assert scaler.mean is not None and scaler.scale is not None
        settings["target_units"] = {"mean": scaler.mean.tolist(),
                                    "scale": scaler.scale.tolist()}
    if isinstance(train[0], NumericSequence):
        stacked = np.concatenate([e.features for e in train if isinstance(e, NumericSequence)])
        settings["scaler"] = StandardScaler().fit(stacked).to_json()  # training rows only
        features = int(stacked.shape[1])
    else:
        words, matrix, coverage = _vectors(config.embeddings,
                                           word_vocab(train, data.min_count, texts),
                                           config.classifier.word_dim, log, data.lowercase,
                                           config.train.seed)
    seed_everything(config.train.seed)  # the initial weights follow the seed too
    weights = (_class_weights(config.classifier, train, labels, multi_label)
               if output != "linear" else None)
    model = SequenceClassifier(labels, config.classifier, config.model, words, features,
                               multi_label, weights, matrix, settings)
    if matrix is not None and config.embeddings.freeze and model.embedding is not None:
        model.embedding.weight.requires_grad_(False)
    return model, coverage


def train_classifier(config: ClassifierRunConfig, out_dir: str | Path, resume: bool = False,
                     log: Any = print) -> dict[str, Any]:
    """Train on the configured data; evaluate on dev and test; save bundle and results."""
    check_run(config)
    started = time.perf_counter()
    config = replace(config, data=with_named_features(config.data))  # numeric: by name
    check_labels_per_example(config.classifier.output, bool(config.data.label_separator))
    splits = read_splits(config.data, config.train.seed, log)
    log(", ".join(f"{name} {len(examples)}" for name, examples in splits.items()
                  if name != "train_text") + " examples")
    if config.classifier.output == "linear":  # before build_model reads them as numbers
        for name in ("train", "dev", "test"):
            if name in splits:
                check_numbers(splits[name], name)
    else:  # the whole training file: with data.dev_fraction, dev was drawn from it
        held = [] if has_dev_file(config.data) else splits["dev"]
        warn_case_variants(splits["train"] + held, str(config.data.train or config.data.dataset))
    model, coverage = build_model(config, splits["train"], log, splits.get("train_text"))
    for name in ("dev", "test"):
        if config.classifier.output != "linear" and name in splits:
            check_labels(splits[name], model.labels, name,
                         held_out=name == "dev" and not has_dev_file(config.data))
    size, seed = config.train.batch_size, config.train.seed
    fitted: dict[str, Any] = {}  # classifier.calibrate=temperature: T and its dev scores
    dev = source(model, splits["dev"], 256, False)  # validates, then fits T
    result = train_in_run_dir(
        model, config, out_dir, source(model, splits["train"], size, True, seed), dev, resume,
        log, finish=(lambda trained: fitted.update(calibrate_classifier(trained, dev, log)))
        if config.classifier.calibrate != "none" else None,
    )
    model.to("cpu")
    results: dict[str, Any] = {
        "train_examples": len(splits["train"]),
        "labels": model.labels,
        **({"temperature_scaling": fitted} if fitted else {}),
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "train_seconds": round(result.seconds, 1),
        "parameters": sum(p.numel() for p in model.parameters()),
        "kernel": model.encoder.kernel,
        "embedding_coverage": coverage,
        "history": result.history,
    }
    for name in ("dev", "test"):
        if name in splits:
            results[name] = evaluate_examples(model, splits[name])
    results["total_seconds"] = total_seconds(started, result)
    write_results(results, Path(out_dir) / "results.json")
    for name in ("dev", "test"):
        if name in results:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in results[name]["scores"].items())
            log(f"{name}: {shown}")
    return results


def load_classifier_bundle(bundle: str | Path) -> SequenceClassifier:
    """A saved classifier, checked to be one."""
    return load_model(bundle, SequenceClassifier)
