"""The epoch's training loss: a class-weighted loss is averaged over the epoch by its items'
class weights, as validation averages it; the running sums resume from old checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import ListSource, make_regressor, no_log, quiet, regression_source

from rnnkit.config import ModelConfig
from rnnkit.data.classifier_batches import Encoded, collate
from rnnkit.data.vocab import Vocab
from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
from rnnkit.models.signal import SignalClassifier
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.training.checkpoint import load_checkpoint, save_checkpoint
from rnnkit.training.epoch_sums import EpochSums
from rnnkit.training.monitor import TrainResult
from rnnkit.training.task import StepOutput, TaskModel
from rnnkit.training.trainer import Trainer

TEXTS = ["a great fun film", "dull and bad", "great acting", "bad bad plot", "fun",
         "a dull film", "great fun", "bad film"]


def classifier(output: str = "softmax") -> SequenceClassifier:
    torch.manual_seed(0)
    words = Vocab.build([text.split() for text in TEXTS])
    config = ClassifierConfig(word_dim=6, output=output, embedding_dropout=0.0,
                              output_dropout=0.0)
    return SequenceClassifier(["neg", "pos"], config, ModelConfig(cell="gru", hidden_size=5),
                              words, class_weights=[3.0, 0.5])


def batches(model: SequenceClassifier) -> ListSource:
    """Batches of other class mixes (weights 6, 2 and 3.5): their means by count and by
    weight differ."""
    assert model.words is not None
    rows = [(TEXTS[0:2], [0, 0]), (TEXTS[2:6], [1, 1, 1, 1]), (TEXTS[6:8], [0, 1])]
    return ListSource([collate([Encoded(torch.tensor(model.words.encode(t.split())),
                                        torch.tensor(y)) for t, y in zip(texts, ys, strict=True)])
                       for texts, ys in rows])


def signal_model() -> tuple[SignalClassifier, ListSource]:
    """A sell/hold/buy classifier weighing its classes 0.5, 1 and 4, and 3 batches."""
    torch.manual_seed(0)
    scaler = StandardScaler(["r"]).fit(torch.randn(50, 1).numpy())
    model = SignalClassifier(ModelConfig(cell="gru", hidden_size=4), ["r"], "p", 5, 1, scaler,
                             0.01, -0.01, "price", class_weights=[0.5, 1.0, 4.0])
    labels = [[0, 0, 0, 1], [2, 2], [1, 0, 2]]
    return model, ListSource([(torch.randn(len(ys), 5, 1), torch.tensor(ys)) for ys in labels])


def recording(model: TaskModel, seen: list[StepOutput]) -> None:
    """Keep every training step's output (the trainer calls ``model.step``)."""
    step: Callable[..., StepOutput] = model.step

    def kept(batch: Any, state: Any = None) -> StepOutput:
        out = step(batch, state)
        if model.training:
            seen.append(out)
        return out

    model.step = kept  # type: ignore[method-assign]


@pytest.mark.parametrize("kind", ["softmax", "sigmoid", "signal"])
def test_a_class_weighted_epoch_loss_is_the_weighted_mean_of_its_items(kind: str) -> None:
    """Each batch's loss is sum(w_i * l_i) / sum(w_i), but the epoch's train_loss averaged the
    batches by their item counts: not the weighted mean over the epoch's items, and not
    comparable with val_loss (which divides by the weights)."""
    model: TaskModel
    if kind == "signal":
        model, source = signal_model()
    else:
        model = classifier(kind)
        source = batches(model)
    seen: list[StepOutput] = []
    recording(model, seen)
    result = Trainer(model, quiet(epochs=1, lr=0.05), log=no_log).fit(source)
    assert len(seen) == 3 and all(out.denominator is not None for out in seen)
    losses = [float(out.loss.detach()) for out in seen]
    weights = [float(out.denominator or 0) for out in seen]
    counts = [out.count for out in seen]
    weighted = sum(loss * w for loss, w in zip(losses, weights, strict=True)) / sum(weights)
    by_count = sum(loss * n for loss, n in zip(losses, counts, strict=True)) / sum(counts)
    assert weighted != pytest.approx(by_count, rel=1e-3)  # the test tells them apart
    assert result.history[0]["train_loss"] == pytest.approx(weighted, rel=1e-12)


def test_a_class_weighted_run_resumed_mid_epoch_records_the_uninterrupted_epochs(
        tmp_path: Path) -> None:
    config = quiet(epochs=2, lr=0.05, seed=3)
    straight = Trainer(classifier(), config, tmp_path / "straight", log=no_log)
    expected = straight.fit(batches(classifier()))
    Trainer(classifier(), replace(config, max_steps=4), tmp_path / "part",
            log=no_log).fit(batches(classifier()))  # stops after batch 1 of epoch 2
    assert load_checkpoint(tmp_path / "part" / "last.pt")["batch_in_epoch"] == 1
    resumed = Trainer(classifier(), config, tmp_path / "part", log=no_log)
    assert resumed.resume()
    result = resumed.fit(batches(classifier()))
    assert [r["train_loss"] for r in result.history] == \
        [r["train_loss"] for r in expected.history]


def test_sums_saved_before_they_kept_a_weight_resume_weighing_by_count(tmp_path: Path
                                                                        ) -> None:
    """A checkpoint written mid-epoch before ``weight`` was kept holds each batch's loss
    times its count: resumed, an unweighted run ends the epoch as an uninterrupted one."""
    old = {"totals": {"loss": 6.0, "accuracy": 3.0}, "count": 4, "first_step": 2}
    sums = EpochSums.from_json(old, TrainResult())
    assert (sums.totals, sums.count, sums.first_step, sums.weight) == (
        {"loss": 6.0, "accuracy": 3.0}, 4, 2, 4.0)
    merged = EpochSums.merged([old, {**old, "weight": 1.5}], TrainResult())
    assert (merged.count, merged.weight) == (8, 5.5)

    config = quiet(epochs=2, optimizer="adam", lr=0.05, seed=7)  # 4 batches an epoch
    expected = Trainer(make_regressor(), config, tmp_path / "straight",
                       log=no_log).fit(regression_source())
    Trainer(make_regressor(), replace(config, max_steps=6), tmp_path / "part",
            log=no_log).fit(regression_source())
    path = tmp_path / "part" / "last.pt"
    state = load_checkpoint(path)
    assert state["batch_in_epoch"] == 2
    del state["sums"]["weight"]  # as the older code wrote it
    save_checkpoint(state, path)
    resumed = Trainer(make_regressor(), config, tmp_path / "part", log=no_log)
    assert resumed.resume()
    result = resumed.fit(regression_source())
    assert [r["train_loss"] for r in result.history] == \
        [r["train_loss"] for r in expected.history]
