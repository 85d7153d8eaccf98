"""Bundles: one file rebuilds the model; foreign, corrupt or malicious files are refused."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from rnnkit.config import ModelConfig
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.training.bundle import (
    BundleError,
    load_bundle,
    read_bundle,
    read_header,
    save_bundle,
)


def _model(cell: str = "lstm", **options: object) -> SyntheticTaskModel:
    torch.manual_seed(0)
    config = ModelConfig(cell=cell, hidden_size=6, **options)  # type: ignore[arg-type]
    return SyntheticTaskModel("adding", config, trained_on={"length": 9})


@pytest.mark.parametrize(
    "cell, options",
    [
        ("rnn", {}),
        ("lstm", {"num_layers": 2, "bidirectional": True}),
        ("gru", {"layer_norm": True}),
    ],
)
def test_round_trip_gives_identical_outputs(tmp_path: Path, cell: str, options: dict) -> None:
    model = _model(cell, **options).eval()
    path = save_bundle(model, tmp_path / "m.rnnkit")
    loaded = load_bundle(path)
    x = torch.randn(3, 9, 2)
    assert torch.equal(model(x), loaded(x))
    assert isinstance(loaded, SyntheticTaskModel)
    assert loaded.model_config == model.model_config
    assert loaded.trained_on == {"length": 9}
    assert not loaded.training


def test_header_carries_version_kind_and_config(tmp_path: Path) -> None:
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    metadata, tensors = read_bundle(path)
    assert metadata["format"] == "rnnkit-bundle"
    assert metadata["rnnkit_version"] == "0.1.0"
    assert metadata["kind"] == "synthetic"
    assert json.loads(metadata["config"])["model"]["cell"] == "lstm"
    assert "encoder.weight_ih_l0" in tensors  # torch.nn names inside the bundle too


def test_pickle_crafted_to_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.rnnkit"
    torch.save({"weights": Exploit()}, path)
    with pytest.raises(BundleError, match=r"evil\.rnnkit is not an rnnkit bundle"):
        load_bundle(path)
    assert not marker.exists()


def test_a_checkpoint_given_as_a_bundle_says_which_file_to_give(tmp_path: Path) -> None:
    # said "not a safetensors file (Error while deserializing: header too large); it may be
    # truncated, corrupt, or another kind of file": a run's last.pt is none of the first two
    path = tmp_path / "last.pt"
    torch.save({"model": _model().state_dict()}, path)
    with pytest.raises(BundleError, match=r"last\.pt is not an rnnkit bundle but a zip file, as "
                       r"torch\.save writes \(a run's last\.pt or best\.pt checkpoint\?\): "
                       r"give the run's model\.rnnkit"):
        load_bundle(path)


def test_truncated_bundle_is_a_clear_error(tmp_path: Path) -> None:
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(BundleError, match=r"m\.rnnkit is not an rnnkit bundle.*truncated"):
        load_bundle(path)


def test_foreign_safetensors_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(BundleError, match="not an rnnkit bundle"):
        load_bundle(path)


def test_missing_file_and_wrong_kind(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        load_bundle(tmp_path / "nothing.rnnkit")
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    with pytest.raises(BundleError, match="holds a 'synthetic' model, but a 'tagger' model"):
        load_bundle(path, expected_kind="tagger")


def test_tensors_that_do_not_fit_the_config_are_a_clear_error(tmp_path: Path) -> None:
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    metadata, tensors = read_bundle(path)
    config = json.loads(metadata["config"])
    config["model"]["hidden_size"] = 7
    metadata["config"] = json.dumps(config)
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(BundleError, match="cannot be rebuilt"):
        load_bundle(path)


def test_a_bidirectional_bundle_saved_before_the_final_state_readout_predicts_as_it_did(
        tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = SyntheticTaskModel("adding", ModelConfig(cell="gru", hidden_size=6,
                                                     bidirectional=True)).eval()
    inputs = torch.rand(4, 9, 2)
    save_bundle(model, tmp_path / "new.rnnkit")
    loaded = load_bundle(tmp_path / "new.rnnkit")
    assert isinstance(loaded, SyntheticTaskModel) and loaded.readout == "final_state"
    torch.testing.assert_close(loaded.eval()(inputs), model(inputs))
    old_config = {k: v for k, v in model.bundle_config().items() if k != "readout"}
    old = SyntheticTaskModel.from_bundle_config(old_config)  # a bundle without the key
    old.load_state_dict(model.state_dict())
    assert old.readout == "last_output"
    with torch.no_grad():
        outputs, _ = model.encoder(inputs)
        torch.testing.assert_close(old.eval()(inputs), model.head(outputs[:, -1]).squeeze(1))
        assert not torch.allclose(old(inputs), model(inputs))  # the backward half differs


@pytest.mark.parametrize("metadata", [["format", "rnnkit-bundle"], None, "rnnkit-bundle"])
def test_a_header_whose_metadata_is_no_map_is_a_clear_error(tmp_path: Path,
                                                            metadata: object) -> None:
    """``rnnkit evaluate`` reads the header alone first (read_header): a tampered one is
    refused there as load_bundle refuses it, not with an AttributeError."""
    header = json.dumps({"__metadata__": metadata}).encode()
    path = tmp_path / "tampered.rnnkit"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    for read in (read_header, read_bundle):
        with pytest.raises(BundleError, match=r"tampered\.rnnkit is not an rnnkit bundle"):
            read(path)


def test_a_header_nested_too_deep_for_json_is_a_clear_error(tmp_path: Path) -> None:
    """json.loads raised RecursionError (no ValueError) from read_header: a traceback."""
    header = ('{"__metadata__": {}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    path = tmp_path / "deep.rnnkit"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    for read in (read_header, read_bundle):
        with pytest.raises(BundleError, match=r"deep\.rnnkit is not an rnnkit bundle"):
            read(path)


def _rewrite(path: Path, config: dict | None = None, config_text: str | None = None,
             **changes: str) -> None:
    metadata, tensors = read_bundle(path)
    metadata.update(changes)
    if config is not None:
        metadata["config"] = json.dumps(config)
    if config_text is not None:
        metadata["config"] = config_text
    save_file(tensors, str(path), metadata=metadata)


def test_a_bundle_of_a_newer_rnnkit_says_to_upgrade(tmp_path: Path) -> None:
    """A newer rnnkit's bundle said only 'cannot be rebuilt: ModelConfig.__init__() got an
    unexpected keyword argument', or 'has bundle format '2'', with no way out."""
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    config = json.loads(read_header(path)["config"])
    config["model"]["new_setting"] = 1
    _rewrite(path, config, rnnkit_version="0.10.0")
    with pytest.raises(BundleError, match=r"cannot be rebuilt: .*new_setting.*; it was written "
                       r"by rnnkit 0\.10\.0, newer than this one \(0\.1\.0\): upgrade rnnkit"):
        load_bundle(path)
    _rewrite(path, kind="transformer")
    with pytest.raises(BundleError, match=r"unknown kind 'transformer'.*: upgrade rnnkit"):
        load_bundle(path)
    _rewrite(path, format_version="4")
    with pytest.raises(BundleError, match=r"has bundle format '4'; this rnnkit reads formats 1, "
                       r"2 and 3; "
                       r"it was written by rnnkit 0\.10\.0.*upgrade rnnkit to load it"):
        read_header(path)


def test_a_bundle_of_this_or_an_older_rnnkit_gets_no_upgrade_advice(tmp_path: Path) -> None:
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    config = json.loads(read_header(path)["config"])
    config["model"]["hidden_size"] = 7
    _rewrite(path, config, rnnkit_version="0.1.0")
    with pytest.raises(BundleError, match="cannot be rebuilt") as caught:
        load_bundle(path)
    assert "upgrade" not in str(caught.value)


@pytest.mark.parametrize("key, value", [("hidden_size", 30_000), ("hidden_size", 65_536),
                                        ("num_layers", 1000)])
def test_a_config_that_builds_a_huge_model_is_refused_before_it_is_built(
        tmp_path: Path, key: str, value: int) -> None:
    """hidden_size 30000 allocated and initialised 14 GB before load_state_dict said the
    weights did not fit; num_layers 10**6 built layers for a minute or more. (Past a run's
    bounds, 65536 and 1000, the setting itself is refused: tests/test_bundle_config.py.)"""
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    config = json.loads(read_bundle(path)[0]["config"])
    config["model"][key] = value
    _rewrite(path, config)
    with pytest.raises(BundleError, match=r"m\.rnnkit: the 'synthetic' model cannot be rebuilt: "
                       r"its configuration builds a model of more than [\d,]+ (weights|modules)"):
        load_bundle(path)


def test_tensors_a_header_shares_out_count_once_against_the_size_of_the_model(
        tmp_path: Path) -> None:
    """A tensor stored once and named again in shared_weights (tied weights) is one tensor's
    memory: a file of 2 layers whose header gave layer 1's tensors to 98 more layers built a
    model of 100 (3.3 million weights from a file of 50 thousand)."""
    model = SyntheticTaskModel("adding", ModelConfig(hidden_size=64, num_layers=2))
    path = save_bundle(model, tmp_path / "m.rnnkit")
    metadata, tensors = read_bundle(path)
    config = json.loads(metadata["config"])
    config["model"]["num_layers"] = 100
    shared = {f"encoder.{kind}_l{layer}": f"encoder.{kind}_l1" for layer in range(2, 100)
              for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    metadata.update(config=json.dumps(config), shared_weights=json.dumps(shared))
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(BundleError, match=r"m\.rnnkit: the 'synthetic' model cannot be rebuilt: "
                       r"its configuration builds a model of more than [\d,]+ weights, and the "
                       r"file holds 50,753"):
        load_bundle(path)


def _retensor(path: Path, change: object) -> None:
    metadata, tensors = read_bundle(path)
    change(tensors)  # type: ignore[operator]
    metadata.pop("weights_sha256", None)  # as a bundle written before it: the weights are checked
    save_file(tensors, str(path), metadata=metadata)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.pop("encoder.bias_hh_l0"), "it lacks encoder.bias_hh_l0"),
    (lambda t: t.update(extra=torch.zeros(3)), "it holds extra, which the model has not"),
    (lambda t: t.update({"head.weight": t["head.weight"].reshape(-1)}),
     r"head.weight is \[6\] in the file, \[1, 6\] in the model"),
    (lambda t: t.update({"head.weight": t["head.weight"].view(torch.int32)}),
     "head.weight is int32 in the file, float32 in the model"),
])
def test_weights_that_do_not_fit_are_named_in_one_line(tmp_path: Path, change: object,
                                                       message: str) -> None:
    """torch's load_state_dict error ran over several lines ('Error(s) in loading state_dict
    for ...:' then one tab-indented line per tensor); int32 weights were cast silently."""
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    _retensor(path, change)
    with pytest.raises(BundleError, match=message) as error:
        load_bundle(path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_nan_or_infinite_weights_are_refused(tmp_path: Path, value: float) -> None:
    """A bundle with NaN weights loaded: the forecaster then forecast NaN, the tagger tagged
    every word <pad>, the classifier said 'very negative', all with exit status 0."""
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    _retensor(path, lambda t: t["head.weight"].__setitem__((0, 2), value))
    with pytest.raises(BundleError, match=r"m\.rnnkit: the 'synthetic' model cannot be rebuilt:"
                       " head.weight holds 1 NaN or infinite values of 6: the file is damaged"):
        load_bundle(path)


@pytest.mark.parametrize("config, message", [
    ([1, 2], "its configuration is a JSON list, not an object of settings"),
    ({"model": {}}, "its configuration lacks 'task'"),
])
def test_a_config_of_the_wrong_shape_says_what_is_wrong(tmp_path: Path, config: object,
                                                        message: str) -> None:
    """They said 'list indices must be integers or slices, not str' and 'cannot be rebuilt:
    'task'' (a KeyError's text alone: a tagger's bundle relabelled 'classifier' said 'labels')."""
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    _rewrite(path, config=None, config_text=json.dumps(config))
    with pytest.raises(BundleError, match=message):
        load_bundle(path)


def test_tag_names_of_the_wrong_type_are_a_clear_error(tmp_path: Path) -> None:
    """A tagger whose tag names were ints raised AttributeError ('int' object has no
    attribute 'partition') from the CRF's transition rules: a traceback."""
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.tagger import Tagger, TaggerConfig

    words, chars = Vocab(["the", "dog"]), Vocab(list("thedog"))
    tags = Vocab(["B-PER", "I-PER", "O"], unknown=False)
    model = Tagger(words, chars, tags, TaggerConfig(word_dim=4, char_dim=2, char_hidden=2),
                   ModelConfig(hidden_size=4, bidirectional=True))
    path = save_bundle(model, tmp_path / "t.rnnkit")
    config = json.loads(read_bundle(path)[0]["config"])
    config["tags"]["symbols"] = list(range(len(config["tags"]["symbols"])))
    _rewrite(path, config)
    with pytest.raises(BundleError, match=r"t\.rnnkit: the 'tagger' model cannot be rebuilt"):
        load_bundle(path)


def test_forecast_with_a_config_nested_too_deep_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rnnkit forecast read the bundle's data source from its header first, and json's
    RecursionError there was a traceback."""
    from rnnkit.cli import main

    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    _rewrite(path, config=None, config_text="[" * 100_000 + "]" * 100_000)
    assert main(["forecast", "--model", str(path)]) == 2
    error = capsys.readouterr().err
    assert "m.rnnkit" in error and "Traceback" not in error and error.count("\n") == 1


def test_weights_damaged_after_the_bundle_was_written_are_refused(tmp_path: Path) -> None:
    """64 zeroed bytes in the middle of the weights loaded without a word: the model then
    predicted with wrong weights. A bundle written before the checksum still loads."""
    path = save_bundle(_model(), tmp_path / "m.rnnkit")
    raw = path.read_bytes()
    assert read_bundle(path)[0]["weights_sha256"]
    path.write_bytes(raw[:-80] + bytes(64) + raw[-16:])
    with pytest.raises(BundleError, match=r"m\.rnnkit: its weights do not match the checksum in "
                       "its header: the file was damaged or changed after rnnkit wrote it"):
        load_bundle(path)
    path.write_bytes(raw)
    _retensor(path, lambda tensors: None)  # no checksum: loads as before
    assert isinstance(load_bundle(path), SyntheticTaskModel)


def test_one_model_gives_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    """safetensors writes the header's metadata from a Rust hash map, in an order that changed
    from process to process: the same model gave files of other bytes."""
    import subprocess
    import sys

    script = (
        "import sys, torch\n"
        "from rnnkit.config import ModelConfig\n"
        "from rnnkit.models.synthetic import SyntheticTaskModel\n"
        "from rnnkit.training.bundle import save_bundle\n"
        "torch.manual_seed(0)\n"
        "save_bundle(SyntheticTaskModel('adding', ModelConfig(hidden_size=4)), sys.argv[1])\n"
    )
    files = [tmp_path / f"{run}.rnnkit" for run in range(3)]
    for run, path in enumerate(files):
        subprocess.run([sys.executable, "-c", script, str(path)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": str(run)})
    assert len({path.read_bytes() for path in files}) == 1
    model = load_bundle(files[0])
    assert isinstance(model, SyntheticTaskModel)
