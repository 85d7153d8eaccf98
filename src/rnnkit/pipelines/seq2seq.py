"""Train and score a translation model on parallel text (Multi30k by default)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.config import (
    ConfigError,
    ModelConfig,
    TrainConfig,
    changed_keys,
    check_at_least,
    check_at_most,
    check_choice,
    check_files_beside_dataset,
    check_model,
)
from rnnkit.data.batching import BucketBatches
from rnnkit.data.parallel import (
    dataset_pair_files,
    one_file_of_a_pair,
    read_parallel,
    without_one_side_blank,
)
from rnnkit.data.registry import get_task_spec
from rnnkit.data.subword import BOS_ID, EOS_ID, MODEL_TYPES, SPECIAL_PIECES, SubwordTokenizer
from rnnkit.models.beam_search import check_beam_width
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqBatch, Seq2SeqConfig
from rnnkit.pipelines.run import total_seconds, train_in_run_dir, write_results
from rnnkit.pipelines.translation import pad
from rnnkit.pipelines.translation_scoring import score_both
from rnnkit.pipelines.translation_scoring import score_lines as score_lines  # its old home
from rnnkit.training.checkpoint import seed_everything
from rnnkit.training.translation_metrics import bleu_metric

Pair = tuple[list[int], list[int], str]  # source ids (+ end), target ids (begin .. end), text


@dataclass(frozen=True)
class TranslationDataConfig:
    """Where the parallel text comes from and how it becomes subwords."""

    dataset: str = "multi30k"  # a registry dataset; "" reads the train/dev/test prefixes
    src: str = "de"
    tgt: str = "en"
    train: str = ""  # file prefix: reads <train>.<src> and <train>.<tgt>
    dev: str = ""
    test: str = ""
    data_dir: str = ""  # local mirror (or RNNKIT_DATA)
    vocab_size: int = 4000  # subword pieces per language (the output layer's cost grows with it)
    tokenizer: str = "unigram"  # unigram | bpe (SentencePiece)
    max_train_tokens: int = 80  # training pairs longer than this (either side) are left out


@dataclass(frozen=True)
class Seq2SeqRunConfig:
    data: TranslationDataConfig = field(default_factory=TranslationDataConfig)
    # no input feeding by default: the decoder then runs as one fused call over the target,
    # about 1.5x faster per batch on a CPU than step by step
    seq2seq: Seq2SeqConfig = field(default_factory=lambda: Seq2SeqConfig(input_feeding=False))
    model: ModelConfig = field(
        default_factory=lambda: ModelConfig(cell="gru", hidden_size=256, bidirectional=True,
                                            init="torch")
    )
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=10, batch_size=128, lr=2e-3, clip_norm=1.0, monitor="val_bleu", mode="max",
            patience=3, lr_patience=1, lr_factor=0.5,
        )
    )


def read_split(data: TranslationDataConfig, split: str
               ) -> tuple[list[str], list[str], tuple[str | Path, str | Path]]:
    """Source and target lines of ``train``, ``dev`` or ``test``, and the two files read
    (:func:`split_files`), which messages and outputs name."""
    files = split_files(data, split)
    return (*read_parallel(*files), files)


def split_files(data: TranslationDataConfig, split: str) -> tuple[str | Path, str | Path]:
    """The source and target files of ``split``: the dataset's, or named by its prefix."""
    if data.dataset:
        return dataset_pair_files(data.dataset, split, data.src, data.tgt, data.data_dir or None)
    return pair_files(data, split)


def pair_files(data: TranslationDataConfig, split: str) -> tuple[str, str]:
    """The source and target files of ``split`` named by its prefix (no ``data.dataset``)."""
    prefix = getattr(data, split, "")
    if not prefix:
        raise ValueError(f"no {split} data: set data.dataset, or data.{split} (--{split}) to a"
                         f" file prefix (reads <prefix>.{data.src} and <prefix>.{data.tgt})")
    one_file_of_a_pair(prefix, data.src, data.tgt, f"--{split}")
    return f"{prefix}.{data.src}", f"{prefix}.{data.tgt}"


def encode_pairs(model: Seq2Seq, sources: list[str], targets: list[str], limit: int = 0,
                 truncate: bool = True) -> list[Pair]:
    """Subword ids of each pair; with ``limit``, pairs longer on either side are left out.

    ``truncate``: sources cut to ``seq2seq.max_source_tokens``, as translation reads them (for
    scoring); training pairs are kept whole (``truncate=False``), since a cut source no longer
    says what its target does.
    """
    pairs: list[Pair] = []
    for source, target in zip(sources, targets, strict=True):
        source_ids = model.source_tokenizer.encode(source)
        target_ids = model.target_tokenizer.encode(target)
        if limit and (len(source_ids) > limit or len(target_ids) > limit):
            continue
        if truncate:
            source_ids = source_ids[: model.config.max_source_tokens]
        pairs.append((source_ids + [EOS_ID], [BOS_ID, *target_ids, EOS_ID], target))
    return pairs


def collate(pairs: list[Pair]) -> Seq2SeqBatch:
    """Pairs -> one padded :class:`Seq2SeqBatch`."""
    source, lengths = pad([p[0] for p in pairs])
    target, _ = pad([p[1] for p in pairs])
    return Seq2SeqBatch(source, lengths, target, tuple(p[2] for p in pairs))


def batches(pairs: list[Pair], batch_size: int, shuffle: bool, seed: int) -> BucketBatches:
    """Batches of pairs with similar source length."""
    return BucketBatches(pairs, collate, [len(p[0]) for p in pairs], batch_size, shuffle, seed)


def prepare_tokenizers(data: TranslationDataConfig, sources: list[str], targets: list[str],
                       out: Path, resume: bool) -> list[SubwordTokenizer]:
    """Train the two subword models, or on ``resume`` reuse those the run saved. Nothing is
    written here: :func:`tokenizers_json` goes to the run folder once the run starts, so a
    run refused before (a mistyped train.monitor) leaves an earlier run's as they were."""
    saved = out / "tokenizers.json"
    if resume and saved.is_file():
        stored = json.loads(saved.read_text(encoding="utf-8"))
        return [SubwordTokenizer.from_json(stored[side]) for side in ("source", "target")]
    return [SubwordTokenizer.train(lines, data.vocab_size, data.tokenizer)
            for lines in (sources, targets)]


def tokenizers_json(tokenizers: list[SubwordTokenizer]) -> str:
    """The run folder's ``tokenizers.json``: the source and target subword models."""
    return json.dumps({"source": tokenizers[0].to_json(), "target": tokenizers[1].to_json()})


def check_run(config: Seq2SeqRunConfig) -> None:
    """The settings checked before any data is read (also by ``--print-config``)."""
    check_model(config.model)
    # the model drops it without a word (a Seq2SeqConfig's default is true); the run's kept it
    if config.seq2seq.attention == "none" and config.seq2seq.input_feeding:
        raise ConfigError("seq2seq.input_feeding feeds the attentional vector into the next "
                          "step, and seq2seq.attention=none gives none (the model would train "
                          "without it): set seq2seq.attention to general, dot or additive, or "
                          "leave seq2seq.input_feeding out (to --resume a run saved so, which "
                          "trained without it: --set seq2seq.input_feeding=false)")
    Seq2Seq.check_options(config.seq2seq, config.model)  # seq2seq.length_penalty >= 0 too
    if not config.seq2seq.teacher_forcing_steps and changed_keys(
            "seq2seq", config.seq2seq, Seq2SeqRunConfig().seq2seq, ("teacher_forcing_final",)):
        raise ConfigError("seq2seq.teacher_forcing_final is read only with "
                          "seq2seq.teacher_forcing_steps, the steps over which the ratio moves "
                          "from seq2seq.teacher_forcing to it; set those too, or leave it out")
    data = config.data
    if data.dataset:  # one of another task: refused here, as the tagger's (--print-config)
        get_task_spec(data.dataset, "translation", "a translation model")
    check_files_beside_dataset(data)
    check_choice(data.tokenizer, "data.tokenizer", MODEL_TYPES)
    check_at_least(data.vocab_size, "data.vocab_size", SPECIAL_PIECES + 1)
    check_at_most(data.vocab_size, "data.vocab_size", 10**7, "SentencePiece failed on 2**31 "
                  "pieces, naming no setting; 4000 to 32000 are usual")
    check_at_most(config.seq2seq.beam_size, "seq2seq.beam_size", data.vocab_size,
                  "the beam keeps one hypothesis per target subword at most, data.vocab_size;"
                  " 5 is usual")  # translate refuses such a beam too
    check_at_least(data.max_train_tokens, "data.max_train_tokens", 0)  # 0: no limit
    bleu_metric(data.tgt)  # BLEU's tokenizer for the target language is installed


def check_splits(splits: dict[str, tuple[list[str], list[str], Any]],
                 data: TranslationDataConfig) -> None:
    """Refuse an empty split before training (dev and test are scored after it), and training
    text of which one side is all blank lines (its tokenizer would have nothing to learn)."""
    for split in ("train", "dev", "test"):
        if not splits[split][0]:
            raise ValueError(f"the {split} data has no sentence pairs (its files are empty); give"
                             f" data.{split} (--{split}) a prefix whose two files hold sentences")
        if split != "train" and not any(line.strip() for line in splits[split][1]):
            raise ValueError(f"the {split} data's references ({data.tgt}) are only blank lines: "
                             f"nothing to score; give data.{split} (--{split}) a prefix whose "
                             "two files hold sentences")
    for side, language in enumerate((data.src, data.tgt)):
        if not any(line.strip() for line in splits["train"][side]):
            where = f"{data.train}.{language}" if data.train else f"its {language} side"
            raise ValueError(f"the training data has no text in {where}: every line is blank;"
                             " give data.train (--train) a prefix whose two files hold"
                             " sentences")


def check_train_pairs(pairs: list[Pair], lines: int, limit: int) -> None:
    """Refuse to train when ``data.max_train_tokens`` left out every training pair."""
    if not pairs:
        raise ValueError(f"none of the {lines} training pairs is at most {limit} subwords long"
                         " on both sides (data.max_train_tokens); raise it, or set 0 for no"
                         " limit")


def train_seq2seq(config: Seq2SeqRunConfig, out_dir: str | Path, resume: bool = False,
                  log: Any = print) -> dict[str, Any]:
    """Train subword tokenizers and the model; score dev and test (greedy and beam)."""
    check_run(config)  # before the data and tokenizers
    data = config.data
    started = time.perf_counter()
    splits = {split: read_split(data, split) for split in ("train", "dev", "test")}
    check_splits(splits, data)  # test: read and checked before training
    ((train_src, train_tgt, train_files), (dev_src, dev_tgt, _),
     (test_src, test_tgt, test_files)) = splits.values()
    log(f"read {len(train_src)} / {len(dev_src)} / {len(test_src)} pairs (train / dev / test),"
        f" {data.src}->{data.tgt}")
    names = (str(train_files[0]), str(train_files[1]))
    train_src, train_tgt, left_out = without_one_side_blank(train_src, train_tgt, names)
    if left_out:
        log(left_out)
    tokenizers = prepare_tokenizers(data, train_src, train_tgt, Path(out_dir), resume)
    log(f"subword vocabularies: {len(tokenizers[0])} {data.src}, {len(tokenizers[1])} {data.tgt}")
    # SentencePiece may make fewer pieces than data.vocab_size asks
    check_beam_width(config.seq2seq.beam_size, len(tokenizers[1]), "seq2seq.beam_size")
    seed_everything(config.train.seed)  # the initial weights follow the seed too
    model = Seq2Seq(tokenizers[0], tokenizers[1], config.seq2seq, config.model,
                    data={"dataset": data.dataset, "src": data.src, "tgt": data.tgt})
    train_pairs = encode_pairs(model, train_src, train_tgt, data.max_train_tokens,
                               truncate=False)
    check_train_pairs(train_pairs, len(train_src), data.max_train_tokens)
    dev_pairs = encode_pairs(model, dev_src, dev_tgt)
    result = train_in_run_dir(
        model, config, out_dir, batches(train_pairs, config.train.batch_size, True,
                                        config.train.seed),
        batches(dev_pairs, 128, False, 0), resume, log,
        files={"tokenizers.json": tokenizers_json(tokenizers)},  # written as the run starts
    )
    model.to("cpu")
    results: dict[str, Any] = {
        "pair": f"{data.src}-{data.tgt}",
        "train_pairs": len(train_pairs),
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "train_seconds": round(result.seconds, 1),
        "parameters": sum(p.numel() for p in model.parameters()),
        "history": result.history,
    }
    out = Path(out_dir)
    results["test"] = score_both(model, test_src, test_tgt, out, "test", log,
                                 str(test_files[0]))
    results["total_seconds"] = total_seconds(started, result)
    write_results(results, out / "results.json")
    return results


def model_from_run(out_dir: str | Path, checkpoint: str = "best.pt") -> Seq2Seq:
    """The model of a run folder at one of its checkpoints (e.g. of a run stopped early):
    rebuilt from its ``config.toml`` and ``tokenizers.json``, weights from ``checkpoint``."""
    from rnnkit.config import load_config
    from rnnkit.training.checkpoint import load_checkpoint

    out = Path(out_dir)
    missing = [name for name in ("config.toml", "tokenizers.json", checkpoint)
               if not (out / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{out} is not a finished-enough seq2seq run: no"
                                f" {', '.join(missing)}")
    config = load_config(Seq2SeqRunConfig, out / "config.toml", check=False)  # as it ran
    stored = json.loads((out / "tokenizers.json").read_text(encoding="utf-8"))
    data = config.data
    model = Seq2Seq(SubwordTokenizer.from_json(stored["source"]),
                    SubwordTokenizer.from_json(stored["target"]), config.seq2seq, config.model,
                    data={"dataset": data.dataset, "src": data.src, "tgt": data.tgt})
    model.load_state_dict(load_checkpoint(out / checkpoint)["model"])
    return model.eval()
