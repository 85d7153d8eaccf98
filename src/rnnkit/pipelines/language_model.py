"""Train a language model on one text: split, vocabulary, stream batches, trainer, sample."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    check_at_least,
    check_choice,
    check_fraction,
    check_model,
)
from rnnkit.data.registry import dataset_file, get_task_spec
from rnnkit.data.text_stream import (
    LEVELS,
    StreamBatches,
    build_stream_vocab,
    split_text,
    tokenize,
)
from rnnkit.data.vocab import Vocab
from rnnkit.models.generate import SamplingConfig, check_prime, check_sampling, generate
from rnnkit.models.language_model import LanguageModel, LMConfig
from rnnkit.pipelines.run import total_seconds, train_in_run_dir, write_results
from rnnkit.plural import plural
from rnnkit.training.bundle import load_model
from rnnkit.training.checkpoint import CheckpointError, atomic_write_text, seed_everything


@dataclass(frozen=True)
class LMDataConfig:
    """Where the text comes from and how it is split and batched."""

    dataset: str = "tinyshakespeare"  # a registry name, or "" with data.file
    file: str = ""  # a UTF-8 text file instead of a registry dataset (.gz: decompressed)
    data_dir: str = ""  # local mirror of the registry (else RNNKIT_DATA)
    validation_fraction: float = 0.1  # the last part of the text validates
    steps: int = 100  # time steps per window (truncated BPTT length)
    eval_batch_size: int = 16  # columns of the validation stream
    min_count: int = 1  # word level: rarer words become <unk>


@dataclass(frozen=True)
class LMRunConfig:
    """Defaults: the measured tiny-shakespeare run (2 x 384 LSTM, 1.483 nats/char after 12
    epochs on one CPU thread; benchmarks/language_model.py)."""

    TBPTT: ClassVar[bool] = True  # train.tbptt_steps: windows of the text stream (the model's)
    data: LMDataConfig = field(default_factory=LMDataConfig)
    lm: LMConfig = field(
        default_factory=lambda: LMConfig(embedding_dim=64, input_dropout=0.0,
                                         hidden_dropout=0.1, output_dropout=0.1)
    )
    model: ModelConfig = field(
        default_factory=lambda: ModelConfig(cell="lstm", hidden_size=384, num_layers=2)
    )
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=12, batch_size=32, lr=3e-3, clip_norm=1.0,
                                            lr_patience=1, lr_factor=0.5)
    )
    sample: SamplingConfig = field(default_factory=SamplingConfig)


def read_text(data: LMDataConfig) -> str:
    """The configured text, from a file or the registry: UTF-8 (other bytes are an error
    naming the line), a byte-order mark left out (it would become a character to learn), and
    Windows (CRLF) and old Mac (CR) line endings read as ``\\n``, as Python's ``open`` reads a
    text file (a CRLF file taught a character model to write ``\\r`` before each line break)."""
    from rnnkit.data import files

    path = text_path(data)
    text = files.read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        what = f"holds only whitespace ({plural(len(text), 'character')})" if text else "is empty"
        raise ValueError(f"{path} {what}: a language model needs text to learn from or to be "
                         "scored on")
    return text


def text_path(data: LMDataConfig) -> Path:
    """The file :func:`read_text` reads: ``data.file``, or the registry dataset's."""
    if data.file:
        return Path(data.file)
    if data.dataset:
        spec = get_task_spec(data.dataset, "language_model", "a language model")
        return dataset_file(data.dataset, spec.splits[0], data.data_dir or None)
    raise ValueError("no text: set data.dataset (e.g. tinyshakespeare) or data.file")


def _carriage_return_hint(data: LMDataConfig) -> str:
    """Why a run's vocabulary may differ on the same text: one trained before rnnkit read
    CRLF and CR line endings as ``\\n`` learned ``\\r`` as a character ("" if the text has
    none)."""
    from rnnkit.data.files import read_bytes

    try:
        if b"\r" not in read_bytes(text_path(data)):
            return ""
    except (OSError, ValueError):
        return ""
    return ("; if the text is unchanged: it has Windows (CRLF) or old Mac (CR) line endings, "
            "which rnnkit now reads as \\n, and a run trained on it by an earlier version "
            "learned \\r as a character of its own, so its checkpoint does not fit: train "
            "the model again (drop --resume, or use a new --out)")


def encode_stream(tokens: list[str], vocab: Vocab, what: str,
                  advice: str = "train on text that contains them") -> list[int]:
    """Ids of the tokens; a character the vocabulary lacks is an error naming it, and
    ``advice``: what to do about it."""
    if not vocab.unknown:
        unseen = sorted(set(tokens) - set(vocab.symbols))
        if unseen:
            raise ValueError(f"the {what} holds characters never seen in training: {unseen}; "
                             f"{advice}")
    return vocab.encode(tokens)


def untrained_unknown(train_ids: list[int], val_ids: list[int], vocab: Vocab,
                      min_count: int = 1) -> str:
    """A word-level note when validation words are ``<unk>`` but no training word is: the
    model never learns to predict ``<unk>``, and each unseen word costs the perplexity a
    guess at an untrained symbol ("" otherwise)."""
    if not vocab.unknown or not val_ids or vocab.unk_id in train_ids:
        return ""
    unknown = val_ids.count(vocab.unk_id)
    if not unknown:
        return ""
    return (f"{unknown} of {len(val_ids)} validation words ({100 * unknown / len(val_ids):.1f}%)"
            f" were never seen in training and are read as <unk>, which no training word is "
            f"(data.min_count={min_count}): the model never learns <unk>, and the validation "
            f"perplexity pays an untrained guess for each of them; data.min_count="
            f"{min_count + 1} or more trains <unk> on the training text's rare words")


def check_settings(config: LMRunConfig) -> None:
    """Refuse sizes, the model and sampling settings before the text is read (``sample`` is
    used only after training)."""
    data = config.data
    check_choice(config.lm.level, "lm.level", LEVELS)  # else refused only once the text is read
    check_fraction(data.validation_fraction, "data.validation_fraction")
    check_at_least(data.steps, "data.steps", 1)
    check_at_least(data.eval_batch_size, "data.eval_batch_size", 1)
    check_at_least(data.min_count, "data.min_count", 1)  # below 1 kept every word, as 1 does
    if config.lm.level == "char" and data.min_count != LMDataConfig().min_count:
        raise ConfigError("data.min_count is read only at word level "
                          "(lm.level=word), where rarer words become <unk>; a character model "
                          "keeps every character of the training text: leave it out")
    if data.dataset and not data.file:  # one of another task: refused here, as the tagger's
        get_task_spec(data.dataset, "language_model", "a language model")  # (--print-config)
    check_at_least(config.train.batch_size, "train.batch_size", 1)
    check_model(config.model)
    LanguageModel.check_options(config.lm, config.model)  # else refused once the text is read
    model, lm = config.model, config.lm
    if (lm.tie_weights and model.num_layers == 1 and model.hidden_size != lm.embedding_dim
            and model.hidden_size != LMRunConfig().model.hidden_size):
        raise ConfigError(f"model.hidden_size={model.hidden_size} is not read: with "
                          "lm.tie_weights=true and one layer, that layer's size is "
                          f"lm.embedding_dim ({lm.embedding_dim}), the decoder sharing the "
                          "embedding; set lm.embedding_dim, or model.num_layers=2 or more")
    check_sampling(config.sample)


def train_language_model(config: LMRunConfig, out_dir: str | Path, resume: bool = False,
                         log: Any = print) -> dict[str, Any]:
    """Train, score the validation text, write a sample; return and save the results."""
    check_settings(config)
    data, level = config.data, config.lm.level
    started = time.perf_counter()
    text = read_text(data)
    train_text, val_text = split_text(text, data.validation_fraction, level)
    train_tokens, val_tokens = tokenize(train_text, level), tokenize(val_text, level)
    if not train_tokens:  # else the vocabulary's errors blamed the validation text, or words
        raise ValueError(f"data.validation_fraction={data.validation_fraction:g} leaves no "
                         f"{level} token to train on (the first {len(train_text)} of the "
                         f"text's {len(text)} characters); use a smaller "
                         "data.validation_fraction or a longer text")
    vocab = build_stream_vocab(train_tokens, level, data.min_count)
    log(f"{len(train_tokens)} / {len(val_tokens)} {level} tokens (train / validation),"
        f" vocabulary {len(vocab)}")
    train_ids = encode_stream(train_tokens, vocab, "training text")
    val_ids = encode_stream(  # a one-line file's final line break alone, say
        val_tokens, vocab, f"validation text (the last {data.validation_fraction:g} of the "
        "text, data.validation_fraction)", "the training text before it has none of them, "
        "and a character model cannot score a character it never saw: have them occur "
        "before the end too (or remove them from it), or change data.validation_fraction")
    note = untrained_unknown(train_ids, val_ids, vocab, data.min_count)
    if note:
        log(f"note: {note}")
    # a text too short to batch is refused first: then the prime (a tiny text may hold no
    # line break to start from, but more text is what it needs)
    train = StreamBatches(train_ids, config.train.batch_size, data.steps, True, config.train.seed)
    val = StreamBatches(val_ids, data.eval_batch_size, data.steps, shuffle=False,
                        setting="data.eval_batch_size (or a larger data.validation_fraction)")
    seed_everything(config.train.seed)
    model = LanguageModel(vocab, config.lm, config.model)
    check_prime(model, config.sample.prime)
    try:
        result = train_in_run_dir(model, config, out_dir, train, val, resume, log)
    except CheckpointError as error:  # the same text read otherwise: say why
        hint = _carriage_return_hint(data) if "vocab" in str(error) else ""
        if not hint:
            raise
        raise CheckpointError(f"{error}{hint}") from None
    model.to("cpu")
    scores = model.evaluate(val.batches(0))
    out = Path(out_dir)
    sample = generate(model, config.sample)
    atomic_write_text(out / "sample.txt", sample)
    results: dict[str, Any] = {
        "level": level,
        "train_tokens": len(train_ids),
        "validation_tokens": val.tokens(),
        # <unk> is scored as one word: the more of them, the lower the perplexity
        **({"validation_unknown_tokens": val.predicted(vocab.unk_id)} if vocab.unknown else {}),
        "vocabulary": len(vocab),
        "parameters": sum(p.numel() for p in model.parameters()),
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "train_seconds": round(result.seconds, 1),
        "tokens_per_second": round(trained_tokens(train, model, result.steps,
                                                  config.train.tbptt_steps)
                                   / max(result.seconds, 1e-9), 1),
        "validation": scores,
        "sample_settings": asdict(config.sample),
        "sample": sample,
        "history": result.history,
        "total_seconds": total_seconds(started, result),
    }
    write_results(results, out / "results.json")
    shown = ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
    if vocab.unknown:
        unknown = results["validation_unknown_tokens"]
        shown += (f" ({unknown} of the {val.tokens()} tokens scored are <unk>, "
                  f"{100 * unknown / val.tokens():.1f}%)")
    log(f"validation: {shown}")
    return results


def trained_tokens(train: StreamBatches, model: LanguageModel, steps: int,
                   tbptt_steps: int) -> int:
    """Tokens predicted by a run's first ``steps`` optimizer steps, one a window (of
    ``tbptt_steps`` within each batch when set): whole epochs, and the windows trained of one
    that ``train.max_steps`` cut short."""
    total, epoch = 0, 0
    while steps > 0:
        windows = 0
        for batch in train.batches(epoch):
            for piece in model.windows(batch, tbptt_steps) if tbptt_steps > 0 else [batch]:
                if windows == steps:
                    return total
                total += piece.targets.numel()
                windows += 1
        if not windows:  # (a stream always gives one)
            break
        steps -= windows
        epoch += 1
    return total


def load_language_model(bundle: str | Path) -> LanguageModel:
    """A saved language model, checked to be one."""
    return load_model(bundle, LanguageModel)


def evaluate_text(model: LanguageModel, path: str | Path,
                  batch_size: int = LMDataConfig.eval_batch_size,
                  steps: int = LMDataConfig.steps) -> dict[str, Any]:
    """Score a saved model on the whole text of a file, read as training reads its text: loss
    (nats per token), perplexity and, for characters, bits per character. The text is cut into
    ``batch_size`` consecutive columns (fewer for a short text), each read in windows of
    ``steps`` with the state carried, as validation reads it (with training's defaults for
    ``data.eval_batch_size`` and ``data.steps``, it reproduces a run's validation score); the
    first token of each column is given, never predicted."""
    text = read_text(LMDataConfig(dataset="", file=str(path)))
    tokens = tokenize(text, model.config.level)
    ids = encode_stream(tokens, model.vocab, f"text of {path}",
                        "a character model cannot score a character it never saw: remove them "
                        "from the file, or score a model trained on text that has them")
    if len(ids) < 2:
        raise ValueError(f"{path} holds {len(ids)} {model.config.level} token(s); a language "
                         "model is scored on 2 or more (the first is given, the rest predicted)")
    columns = max(1, min(batch_size, len(ids) // 2))  # a column predicts one token or more
    source = StreamBatches(ids, columns, steps, shuffle=False)
    result: dict[str, Any] = {"tokens": source.tokens(), "columns": columns,
                              **model.evaluate(source.batches(0))}
    if model.vocab.unknown:  # of the tokens scored, as "tokens" counts them
        result["unknown_tokens"] = source.predicted(model.vocab.unk_id)
    return result

