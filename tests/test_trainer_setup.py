"""rnnkit.training.Trainer: its settings checked, seeds, devices and optimizers."""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch
from helpers import (
    make_regressor,
    no_log,
    quiet,
    regression_data,
    regression_source,
    same_weights,
    weights,
)
from torch import Tensor

from rnnkit.config import ConfigError, load_config
from rnnkit.pipelines.synthetic import SyntheticRunConfig
from rnnkit.training import Trainer
from rnnkit.training.environment import resolve_device
from rnnkit.training.trainer import make_optimizer


def test_a_train_config_built_in_python_is_checked_as_the_cli_checks_it() -> None:
    """Trainer took a TrainConfig from Python unchecked: lr_factor without lr_patience was
    ignored, momentum with Adam dropped, epochs=0 trained nothing, with no word."""
    for options, message in [({"epochs": 0}, "train.epochs must be"),
                             ({"lr": -1.0}, "train.lr must be a finite number above 0"),
                             ({"momentum": 0.9}, "train.momentum is read only with"),
                             ({"lr_factor": 0.1}, "train.lr_factor=0.1 is read only when")]:
        with pytest.raises(ConfigError, match=message):
            Trainer(make_regressor(), quiet(**options), log=no_log)


# -- seeds, devices, optimizers -----------------------------------------------------------------
def train_with_seed(seed: int) -> dict[str, Tensor]:
    model = make_regressor(dropout=0.5)  # identical initial weights every time
    torch.rand(17)  # disturb the global RNG: only the trainer's seed may matter
    Trainer(model, quiet(epochs=2, lr=0.05, seed=seed), log=no_log).fit(regression_source())
    return weights(model)


def test_same_seed_same_weights_different_seed_different_weights() -> None:
    first = train_with_seed(1)
    assert same_weights(first, train_with_seed(1))
    assert not same_weights(first, train_with_seed(2))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_cuda_without_gpu_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="cuda"):
        Trainer(make_regressor(), quiet(device="cuda"), log=no_log)
    assert resolve_device("auto") == torch.device("cpu")


def test_the_trainer_module_still_offers_its_old_names() -> None:
    from rnnkit.training import environment, monitor, trainer

    assert trainer.resolve_device is environment.resolve_device
    assert trainer.TrainResult is monitor.TrainResult


def test_device_names() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    for wrong in ("tpu", "cudax", "cuda:a"):  # the configuration's words; torch's never
        with pytest.raises(ValueError, match=r"train.device must be auto, cpu, cuda or cuda:N"):
            resolve_device(wrong)
    with pytest.raises(ValueError, match="train.device must be"):
        Trainer(make_regressor(), quiet(device="cudax"), log=no_log)  # built without a file


def test_cpu_0_is_the_cpu_and_cpu_1_is_refused_naming_cpu() -> None:
    """torch takes cpu:0 (and any cpu:N, all on the one CPU device); the check refused cpu:0
    as an unknown device. cpu:0 now trains on the CPU; cpu:1 and up say to use cpu."""
    assert resolve_device("cpu:0") == torch.device("cpu")
    trainer = Trainer(make_regressor(), quiet(device="cpu:0"), log=no_log)
    assert trainer.device == torch.device("cpu")
    for wrong in ("cpu:1", "cpu:7"):
        with pytest.raises(ValueError, match=r"one CPU device.*use cpu"):
            resolve_device(wrong)
    for wrong in ("cpu:", "cpu:a", "cpu0"):
        with pytest.raises(ValueError, match=r"train.device must be auto, cpu, cuda or cuda:N"):
            resolve_device(wrong)


def test_optimizers() -> None:
    model = make_regressor()
    adamw = make_optimizer(model, quiet(optimizer="adamw", lr=0.3, weight_decay=0.1))
    assert isinstance(adamw, torch.optim.AdamW) and adamw.param_groups[0]["lr"] == 0.3
    sgd = make_optimizer(model, quiet(optimizer="sgd", momentum=0.9))
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["momentum"] == 0.9
    with pytest.raises(ValueError, match="adam, adamw or sgd.*'rmsprop'"):
        make_optimizer(model, quiet(optimizer="rmsprop"))


@pytest.mark.parametrize("settings", [
    {"optimizer": "adam", "lr": 0.01}, {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.1},
    {"optimizer": "adamw", "lr": 0.3, "weight_decay": 0.1},
    {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}])
def test_the_optimizer_steps_all_weights_at_once_with_the_same_result(
        settings: dict[str, Any]) -> None:
    """On the CPU torch's default step loops over the weights in Python; the multi-tensor
    (foreach) step is faster and gives the same weights to the bit."""
    config = quiet(**settings)
    models = [make_regressor(), make_regressor()]
    ours = make_optimizer(models[0], config)
    assert ours.defaults["foreach"] is True
    looped = make_optimizer(models[1], config)
    looped.param_groups[0]["foreach"] = False  # torch's default on the CPU
    x, y = regression_data(size=8)
    for _ in range(5):
        for model, optimizer in zip(models, (ours, looped), strict=True):
            optimizer.zero_grad()
            model.step((x, y)).loss.backward()
            optimizer.step()
    for mine, theirs in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(mine, theirs)


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_momentum_with_an_optimizer_that_reads_none_is_refused(optimizer: str) -> None:
    """Adam and AdamW have no momentum argument: train.momentum=0.9 with them was dropped."""
    assert load_config(SyntheticRunConfig, overrides=["train.optimizer=sgd",
                                                      "train.momentum=0.9"]).train.momentum
    with pytest.raises(ConfigError, match=re.escape(
            f"train.momentum is read only with train.optimizer=sgd, and it is {optimizer}: "
            "leave it out, or set train.optimizer=sgd")):
        load_config(SyntheticRunConfig, overrides=[f"train.optimizer={optimizer}",
                                                   "train.momentum=0.9"])


def test_plateau_settings_without_a_plateau_schedule_are_refused() -> None:
    """train.lr_factor/min_lr with train.lr_patience=0 (the synthetic task's default) were
    dropped: the learning rate never changed, with no word."""
    config = load_config(SyntheticRunConfig, overrides=["train.lr_patience=2",
                                                        "train.lr_factor=0.1", "train.min_lr=1e-4"])
    assert (config.train.lr_factor, config.train.min_lr) == (0.1, 1e-4)
    assert load_config(SyntheticRunConfig, overrides=["train.lr_factor=0.5"])  # the default
    with pytest.raises(ConfigError, match=re.escape(
            "train.lr_factor=0.1 and train.min_lr=0.0001 are read only when the learning rate "
            "is lowered on a plateau, and train.lr_patience is 0 (off): set train.lr_patience "
            "(e.g. 2), or leave them out")):
        load_config(SyntheticRunConfig, overrides=["train.lr_factor=0.1", "train.min_lr=1e-4"])
    with pytest.raises(ConfigError, match=r"^train.min_lr=0.001 is read only"):
        load_config(SyntheticRunConfig, overrides=["train.min_lr=0.001"])


def test_a_copy_to_the_cpu_waits_for_its_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """move_to copied with non_blocking=True to the CPU too, where the trainer then saved the
    carried state in a checkpoint: from a GPU such a copy may not have finished when read."""
    from rnnkit.training.task import move_to

    calls: list[tuple[str, bool]] = []
    real_to = torch.Tensor.to

    def recording_to(tensor: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        calls.append((str(args[0]), bool(kwargs.get("non_blocking", False))))
        return real_to(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", recording_to)
    moved = move_to({"h": (torch.ones(2), [torch.zeros(1)])}, torch.device("cpu"))
    assert calls == [("cpu", False), ("cpu", False)]
    assert torch.equal(moved["h"][0], torch.ones(2)) and torch.equal(moved["h"][1][0],
                                                                     torch.zeros(1))
    calls.clear()
    move_to(torch.ones(1), torch.device("meta"))  # another device: asynchronous as before
    assert calls == [("meta", True)]
