"""A bundle's saved settings are checked at load as a run checks them, before any model is
built: real tiny models (a forecaster on seattle, a classifier on a slice of SST, ...) with
one damaged value each give one line naming the file and the setting, exit status 2."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import SHARED_DATA
from safetensors.torch import save_file

from rnnkit.cli import main
from rnnkit.training.bundle import BundleError, load_bundle, read_bundle

QUIET = ["--set", "train.epochs=1", "--set", "train.progress=false"]


def _head(source: Path, target: Path, lines: int) -> str:
    """The first ``lines`` lines of ``source`` (whole blank-line separated blocks for CoNLL-U)."""
    text = "".join(source.open(encoding="utf-8").readlines()[:lines])
    if source.suffix == ".conllu":
        text = text[: text.rfind("\n\n") + 2]
    target.write_text(text, encoding="utf-8")
    return str(target)


def _train(folder: Path, kind: str) -> Path:
    """A tiny model of ``kind`` trained on real data; its bundle."""
    data, out = SHARED_DATA, folder / kind
    if kind == "forecaster":
        args = ["forecaster", "--set", "data.source=seattle", "--set", "data.lookback=14",
                "--set", "data.horizon=3", "--set", "model.hidden_size=4"]
    elif kind == "quantile":
        args = ["forecaster", "--set", "data.source=seattle", "--set", "data.lookback=14",
                "--set", "data.horizon=3", "--set", "model.hidden_size=4",
                "--set", "forecast.loss=quantile"]
    elif kind == "classifier":
        sst = data / "sst"
        args = ["classifier", "--format", "sst",
                "--train", _head(sst / "train.txt", folder / "sst_train.txt", 200),
                "--set", f"data.dev={_head(sst / 'dev.txt', folder / 'sst_dev.txt', 40)}",
                "--set", f"data.test={_head(sst / 'test.txt', folder / 'sst_test.txt', 40)}",
                "--set", "model.hidden_size=4", "--set", "classifier.word_dim=4"]
    elif kind == "tagger":
        ewt = data / "ud_english_ewt"
        args = ["tagger", "--format", "conllu",
                "--train", _head(ewt / "en_ewt-ud-train.conllu", folder / "t.conllu", 2000),
                "--dev", _head(ewt / "en_ewt-ud-dev.conllu", folder / "d.conllu", 500),
                "--test", _head(ewt / "en_ewt-ud-test.conllu", folder / "e.conllu", 500),
                "--set", "model.hidden_size=4", "--set", "tagger.word_dim=4",
                "--set", "tagger.char_dim=2", "--set", "tagger.char_hidden=2"]
    elif kind == "lm":
        text = folder / "shakespeare.txt"
        text.write_text((data / "tinyshakespeare" / "input.txt").read_text()[:20_000])
        args = ["lm", "--file", str(text), "--set", "model.hidden_size=8",
                "--set", "lm.embedding_dim=8"]
    elif kind == "seq2seq":
        for split in ("train", "val", "test_2016_flickr"):
            for language in ("de", "en"):
                _head(data / "multi30k" / f"{split}.{language}",
                      folder / f"m_{split}.{language}", 120)
        args = ["seq2seq", "--train", str(folder / "m_train"), "--dev", str(folder / "m_val"),
                "--test", str(folder / "m_test_2016_flickr"), "--set", "model.hidden_size=8",
                "--set", "seq2seq.embedding_dim=8"]
    else:  # synthetic: generated data
        args = ["synthetic", "--set", "model.hidden_size=4", "--set", "data.train_size=64",
                "--set", "data.val_size=32", "--set", "data.test_size=32",
                "--set", "data.length=10"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", *args, *QUIET, "--out", str(out)]) == 0
    return out / "model.rnnkit"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not (SHARED_DATA / "sst").is_dir():
        pytest.skip("needs ../shared/data")
    folder = tmp_path_factory.mktemp("bundles")
    kinds = ("forecaster", "quantile", "classifier", "tagger", "lm", "seq2seq", "synthetic")
    return {kind: _train(folder, kind) for kind in kinds}


def _damage(source: Path, target: Path, key: str, value: Any) -> Path:
    """A copy of the bundle ``source`` whose setting ``key`` (``model.dropout``) holds
    ``value``; its weights untouched (their checksum still holds)."""
    metadata, tensors = read_bundle(source)
    config = json.loads(metadata["config"])
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = value
    metadata["config"] = json.dumps(config)
    save_file(tensors, str(target), metadata=metadata)
    return target


TEXTS = "the film is great\nawful , boring movie\n"
DAMAGED = [  # the bundle, the key in its configuration, the value, what the error says
    ("forecaster", "model.dropout", "x",
     r"model\.dropout expects float \(a number, e\.g\. model\.dropout=0\.0\), got 'x'"),
    ("forecaster", "quantiles", [[0.05], [0.5], [0.95]],
     r"forecast\.quantiles must be numbers strictly between 0 and 1, e\.g\. 0\.05,0\.5,0\.95; "
     r"got \[\[0\.05\], \[0\.5\], \[0\.95\]\]"),
    ("quantile", "quantiles", [[0.05], [0.5], [0.95]],
     r"forecast\.quantiles must be numbers strictly between 0 and 1"),
    ("forecaster", "lookback", 1e12,
     r"data\.lookback expects int \(a whole number\), got 1000000000000\.0"),
    ("forecaster", "horizon", "3", r"data\.horizon expects int \(a whole number\), got '3'"),
    ("forecaster", "residual", "yes", r"forecast\.residual expects bool \(true or false\), "
     "got 'yes'"),
    ("forecaster", "scoring.interval", 7.0,
     r"forecast\.interval must be between 0 and 1 \(both excluded\); got 7\.0"),
    ("forecaster", "model.nonlinearity", "sigmoid",
     r"model\.nonlinearity must be one of tanh, relu; got 'sigmoid'"),
    ("classifier", "encoder.dropout", "x", r"model\.dropout expects float .*, got 'x'"),
    ("classifier", "num_features", -3, r"num_features must be at least 0; got -3"),
    ("classifier", "labels", [0, 1, 2, 3, 4],
     r"labels must be a list of the label names \(text\), as read from the training data; "
     r"got \[0, 1, 2, 3, 4\]"),
    ("classifier", "classifier.embedding_dropout", 2.0,
     r"classifier\.embedding_dropout must be at least 0 and below 1 \(0 = off\); got 2\.0"),
    ("classifier", "classifier.class_weights", "some",
     r"classifier\.class_weights must be one of none, balanced; got 'some'"),
    ("tagger", "encoder.dropout", "x", r"model\.dropout expects float .*, got 'x'"),
    ("tagger", "tagger.word_dropout", 3.0,
     r"tagger\.word_dropout must be at least 0 and below 1 \(0 = off\); got 3\.0"),
    ("lm", "encoder.dropout", "x", r"model\.dropout expects float .*, got 'x'"),
    ("lm", "lm.hidden_dropout", 5.0, r"lm\.hidden_dropout must be at least 0 and below 1"),
    ("seq2seq", "encoder.dropout", "x", r"model\.dropout expects float .*, got 'x'"),
    ("seq2seq", "seq2seq.dropout", 2.0, r"seq2seq\.dropout must be at least 0 and below 1"),
    ("seq2seq", "seq2seq.length_penalty", -5.0,  # loaded, and decoded with a negative alpha
     r"seq2seq\.length_penalty must be at least 0; got -5\.0"),
    ("synthetic", "model.dropout", "x", r"model\.dropout expects float .*, got 'x'"),
    ("synthetic", "model.hidden_size", 10**12, r"model\.hidden_size must be at most 65536"),
    ("synthetic", "model.num_layers", 10**6, r"model\.num_layers must be at most 1000"),
]


def _command(kind: str, bundle: Path, folder: Path) -> list[str]:
    """The command that reads a bundle of ``kind``."""
    texts = folder / "texts.txt"
    texts.write_text(TEXTS)
    return {
        "forecaster": ["forecast", "--model", str(bundle)],
        "quantile": ["forecast", "--model", str(bundle)],
        "classifier": ["predict", "--model", str(bundle), "--input", str(texts)],
        "tagger": ["predict", "--model", str(bundle), "--input", str(texts), "--format", "text"],
        "lm": ["generate", "--model", str(bundle), "--length", "5"],
        "seq2seq": ["translate", "--model", str(bundle), "--input", str(texts)],
        "synthetic": ["evaluate", "--model", str(bundle)],
    }[kind]


@pytest.mark.parametrize("kind, key, value, message", DAMAGED,
                         ids=[f"{kind}-{key}={value!r}" for kind, key, value, _ in DAMAGED])
def test_a_damaged_setting_is_refused_at_load_naming_the_file_and_the_setting(
        bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        kind: str, key: str, value: Any, message: str) -> None:
    """The first four loaded (dropout "x", nested quantiles, num_features -3, int labels:
    prediction never reads them), and a lookback of 1e12 failed only on the data, naming no
    file; others said a torch or Python error ("must be real number, not str")."""
    bundle = _damage(bundles[kind], tmp_path / "damaged.rnnkit", key, value)
    label = {"quantile": "forecaster", "lm": "language_model"}.get(kind, kind)
    with pytest.raises(BundleError, match=rf"damaged\.rnnkit: the '{label}' model cannot be "
                       rf"rebuilt: {message}") as caught:
        load_bundle(bundle)
    assert "\n" not in str(caught.value)
    assert main(_command(kind, bundle, tmp_path)) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rnnkit: error: {bundle}: the '{label}' model cannot be rebuilt: ")
    assert error.count("\n") == 1 and "Traceback" not in error


def test_bundles_as_written_and_as_older_rnnkit_wrote_them_still_load(
        bundles: dict[str, Path], tmp_path: Path) -> None:
    """Every setting that a run writes passes; so do bundles without the keys older
    versions did not write (the forecaster's options, the readout, newer model keys)."""
    for bundle in bundles.values():
        load_bundle(bundle)
    older = {"forecaster": ["quantiles", "strategy", "attention", "input_noise",
                            "last_step_weight", "readout", "conformal", "scoring"],
             "synthetic": ["readout"]}
    for kind, keys in older.items():
        metadata, tensors = read_bundle(bundles[kind])
        config = json.loads(metadata["config"])
        for key in keys:
            del config[key]
        for key in ("kernel", "init", "recurrent_dropout", "layer_norm"):
            del config["model"][key]
        metadata["config"] = json.dumps(config)
        save_file(tensors, str(tmp_path / "old.rnnkit"), metadata=metadata)
        load_bundle(tmp_path / "old.rnnkit")


def test_a_lookback_longer_than_the_data_names_the_bundle(
        bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A whole-number lookback of 10**12 passes a run's checks (data.lookback >= 1, below
    2**63) and loads; forecasting said only "1461 rows are too few; the model reads the last
    1000000000000", naming neither the model nor the data."""
    bundle = _damage(bundles["forecaster"], tmp_path / "long.rnnkit", "lookback", 10**12)
    assert main(["forecast", "--model", str(bundle)]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: 1461 rows of seattle are too few: the model in {bundle} reads the last "
        "1000000000000 (its data.lookback); give a longer series, or a model trained with a "
        "shorter lookback\n")


@pytest.mark.parametrize("key, value, message", [
    ("moving_average", "24", r"forecast\.moving_average expects int \(a whole number, e\.g\. "
     r"forecast\.moving_average=24\), got '24'"),
    ("plot_points", 0, r"forecast\.plot_points must be at least 1; got 0"),
    ("ridge_alphas", "x", r"forecast\.ridge_alphas must be numbers separated by commas"),
])
def test_rnnkit_evaluate_checks_the_scoring_settings_a_forecaster_saved(
        bundles: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        key: str, value: Any, message: str) -> None:
    """rnnkit evaluate scores a forecaster with the settings its run scored it with: a
    moving_average of "24" was a TypeError traceback, a plot_points of 0 drew an empty plot,
    ridge_alphas "x" named no file."""
    bundle = _damage(bundles["forecaster"], tmp_path / "scored.rnnkit", f"scoring.{key}", value)
    load_bundle(bundle)  # read by rnnkit evaluate alone
    assert main(["evaluate", "--model", str(bundle), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith(f"rnnkit: error: {bundle}: the 'forecaster' model cannot be scored "
                            "with its saved settings: ")
    assert re.search(message, error)
