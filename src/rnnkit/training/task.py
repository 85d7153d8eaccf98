"""What the trainer needs from a model: a loss for a batch, and an evaluation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn


@dataclass
class StepOutput:
    """The result of one training step.

    Attributes:
        loss: the mean loss over ``count`` items; backpropagated by the trainer.
        count: how many items (tokens, sequences) the loss averages over; weights the epoch mean.
        state: the recurrent state to carry into the next window or batch (truncated BPTT);
            the trainer detaches it. None when nothing is carried.
        metrics: extra numbers to average over the epoch (accuracy, ...).
        denominator: what the loss is a mean over when that is not ``count``: a class-weighted
            cross-entropy divides by the sum of its items' class weights. Training on several
            processes weights each share's gradient by it, so that their average is the
            gradient of the whole batch's loss. None: ``count``.
        weighted: the loss is a mean weighted by its items' class weights (``denominator``
            their sum): the epoch's train_loss weighs the batch by that sum too, as validation
            does, so it is the weighted mean over the epoch's items. False: by ``count``.
    """

    loss: Tensor
    count: int
    state: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    denominator: float | None = None
    weighted: bool = False


class TaskModel(nn.Module):
    """Base class of every task model (tagger, classifier, forecaster, ...).

    A task model computes its own loss, so one trainer serves every task. Subclasses implement
    :meth:`step`; for truncated BPTT also :meth:`windows`; and may refine :meth:`evaluate`
    (and :meth:`layer_lengths`, for a layer run over padding without its lengths).
    To be saved as a bundle, a model also registers a ``kind``
    (:func:`rnnkit.training.bundle.register_model`) and implements :meth:`bundle_config` and
    :meth:`from_bundle_config`.
    """

    kind: ClassVar[str] = ""
    # True for models fed one continuous stream (a language model): the trainer then carries
    # the (detached) state from one batch into the next; otherwise every batch starts afresh
    carries_state: ClassVar[bool] = False
    # True for models whose loss may leave a parameter out on some batches (a CRF's transitions
    # on one-word sentences): training on several processes must then let DDP look for them
    # in every step's graph (a cost, so only where needed)
    may_skip_parameters: bool = False
    bundle_metadata: dict[str, str]  # set by load_bundle: the bundle's header

    def bundle_config(self) -> dict[str, Any]:
        """Everything (JSON values only) that :meth:`from_bundle_config` needs to rebuild it."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved as a bundle")

    @classmethod
    def from_bundle_config(cls, config: dict[str, Any]) -> TaskModel:
        """Rebuild an untrained model from :meth:`bundle_config`'s output."""
        raise NotImplementedError(f"{cls.__name__} cannot be loaded from a bundle")

    @classmethod
    def check_bundle_config(cls, config: dict[str, Any]) -> None:
        """Refuse, before any model is built, a saved configuration whose settings a run of
        this task would refuse (``model.dropout`` ``"x"``), with the checks that run applies
        (:func:`rnnkit.config.saved_section`): a ``ConfigError`` naming the setting. Keys an
        older rnnkit did not write are not required here."""

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        """The loss on one batch (or one time window of it, starting from ``state``)."""
        raise NotImplementedError

    def layer_lengths(self, batch: Any, layer: str) -> Tensor | None:
        """The real steps ``[B]`` of each sequence of ``batch`` that the recurrent layer at the
        attribute path ``layer`` runs over in :meth:`step` without being given its lengths (a
        decoder fed padded targets, whose loss leaves the padding out).
        :func:`~rnnkit.training.diagnostics.gradient_flow` leaves the steps after them out of
        its norms and gate statistics. None (the default): the layer reads no padding, or is
        given the lengths itself."""
        return None

    def metric_names(self) -> list[str] | None:
        """The names :meth:`evaluate` reports, so a mistyped ``train.monitor`` fails before
        training; None when unknown (then it fails after the first epoch)."""
        return None

    def windows(self, batch: Any, steps: int) -> Iterator[Any]:
        """Split a batch into consecutive time windows of ``steps`` steps (truncated BPTT)."""
        raise ValueError(
            f"{type(self).__name__} does not support truncated BPTT (train.tbptt_steps);"
            " set train.tbptt_steps=0"
        )

    @torch.no_grad()
    def evaluate(self, batches: Iterable[Any]) -> dict[str, float]:
        """Mean loss (and step metrics) over batches, weighted by each batch's item count."""
        totals: dict[str, float] = {}
        count = 0
        with evaluating(self):
            for batch in batches:
                out = self.step(batch)
                totals["loss"] = totals.get("loss", 0.0) + float(out.loss) * out.count
                for name, value in out.metrics.items():
                    totals[name] = totals.get(name, 0.0) + value * out.count
                count += out.count
        return {name: total / max(count, 1) for name, total in totals.items()}


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode (no dropout) for the block; its mode is given back after."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def map_tensors(batch: Any, function: Callable[[Tensor], Tensor]) -> Any:
    """Apply ``function`` to every tensor inside tensors, (named) tuples, lists and dicts."""
    if isinstance(batch, Tensor):
        return function(batch)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # named tuple
        return type(batch)(*(map_tensors(b, function) for b in batch))
    if isinstance(batch, tuple | list):
        return type(batch)(map_tensors(b, function) for b in batch)
    if isinstance(batch, dict):
        return {k: map_tensors(v, function) for k, v in batch.items()}
    return batch


def detach_state(state: Any) -> Any:
    """Cut the graph behind a carried state (a tensor or nested tuples/lists of tensors)."""
    return map_tensors(state, Tensor.detach)


def move_to(batch: Any, device: torch.device) -> Any:
    """Move every tensor inside a batch (tensors, tuples, lists, dicts) to a device.

    Asynchronous to a GPU only: a GPU-to-CPU copy made with ``non_blocking`` may be read
    (saved in a checkpoint) before it has finished."""
    device = torch.device(device)
    return map_tensors(batch, lambda tensor: tensor.to(device,
                                                       non_blocking=device.type != "cpu"))
