"""Gradient flow through time: the norm of dL/dh_t for every step, layer and direction.

:func:`gradient_flow` runs a copy of a task model on one batch through rnnkit's own time loop,
keeps the gradient of every hidden state ``h_t`` the cells return and reports its norm. Each
``h_t`` feeds the next step and the layer above (or the head), so its gradient is the *total*
derivative ``dL/dh_t`` over every path: exactly the quantity that vanishes or explodes with the
distance between ``t`` and the loss.

Example:
    >>> from rnnkit.config import ModelConfig
    >>> from rnnkit.data.synthetic import make_split
    >>> from rnnkit.models.synthetic import SyntheticTaskModel
    >>> model = SyntheticTaskModel("adding", ModelConfig(cell="rnn", hidden_size=8))
    >>> flow = gradient_flow(model, make_split("adding", 4, 30, seed=0), name="rnn")
    >>> len(flow.norms[0][0])  # one norm per time step of layer 0, forward direction
    30
    >>> print(flow.table())  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor

from rnnkit.layers.recurrent import Recurrent
from rnnkit.training.flow_padding import lengths_of, model_lengths, one_series, real_steps
from rnnkit.training.recording_cell import RecordingCell
from rnnkit.training.task import TaskModel, map_tensors

DIRECTIONS = ("fwd", "bwd")


@dataclass
class GradientFlow:
    """The measured gradient norms of one model on one batch.

    Attributes:
        name: a label for tables and plots (the cell kind, say).
        norms: ``norms[layer][direction][t]`` = ``||dL/dh_t||`` (Frobenius over batch and
            hidden units), ``t`` in the input's own time order for both directions, up to the
            longest sequence's last step in a padded batch. A state that does not reach the loss
            has norm 0. In a padded batch step ``t`` sums the sequences that reach it, fewer
            towards the end: the norm falls with the square root of their count (a translation
            decoder on 16 Multi30k sentences of 14 to 67 steps: log10 first/last +0.44, but
            -0.16 per sentence, root mean square); compare steps on sequences of one length.
        loss: the batch loss the gradients are taken of.
        gates: ``gates[layer][direction][gate]`` = ``{"mean": m, "saturated": s}`` for the
            sigmoid gates of plain LSTM/GRU cells (``s``: the share of values below 0.1 or
            above 0.9); empty lists for other cells.
    """

    name: str
    norms: list[list[list[float]]]
    loss: float
    gates: list[list[dict[str, dict[str, float]]]] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Time steps measured."""
        return len(self.norms[0][0])

    def rows(self) -> list[dict[str, Any]]:
        """One row per layer and direction: the norms at the first and last step and their ratio.

        ``orders`` is ``log10(first / last)``: -3 means the gradient reaching the first step is a
        thousand times smaller than at the last step; ``-inf`` when the first is 0 (no path to
        the loss, or below the smallest float); NaN when the last is 0. It reads as the
        gradient's decay with distance where the loss sits at the end (a classifier, the adding
        task); where every step has a loss term of its own (a language model, a translation
        decoder), each ``dL/dh_t`` holds its own step's term, and the ratio compares steps, not
        distances.
        """
        rows = []
        for layer, directions in enumerate(self.norms):
            for direction, series in enumerate(directions):
                first, last = series[0], series[-1]
                ratio = first / last if last > 0 else math.nan
                orders = math.log10(ratio) if ratio > 0 else -math.inf if ratio == 0 else ratio
                rows.append({
                    "cell": self.name,
                    "layer": layer,
                    "direction": DIRECTIONS[direction],
                    "first": first,
                    "last": last,
                    "ratio": ratio,
                    "orders": orders,
                })
        return rows

    def table(self) -> str:
        """The rows as a markdown table."""
        return flow_table([self])

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-ready values (non-finite numbers become None)."""
        return json_safe({**asdict(self), "summary": self.rows()})


def flow_table(flows: list[GradientFlow]) -> str:
    """A markdown table of :meth:`GradientFlow.rows`: one row per model, layer and direction."""
    lines = [
        "| cell | layer | dir | ‖dL/dh‖ first step | ‖dL/dh‖ last step | first/last | log10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for flow in flows:
        for row in flow.rows():
            ratio = "n/a" if math.isnan(row["ratio"]) else f"{row['ratio']:.2e}"
            orders = "n/a" if math.isnan(row["orders"]) else f"{row['orders']:+.1f}"
            lines.append(
                f"| {row['cell']} | {row['layer']} | {row['direction']} | {row['first']:.3e}"
                f" | {row['last']:.3e} | {ratio} | {orders} |"
            )
    return "\n".join(lines)


def scaled_norm(values: Tensor) -> float:
    """The Euclidean norm, scaled by the largest entry first: squaring alone overflows from
    about 1e154 and underflows below 1e-162, far inside float64's range.

    Example:
        >>> f"{scaled_norm(torch.tensor([3e200, 4e200], dtype=torch.float64)):.3g}"
        '5e+200'
    """
    largest = values.abs().amax() if values.numel() else values.new_zeros(())
    if largest == 0 or not torch.isfinite(largest):
        return float(largest)  # 0, inf or nan as they are
    return float(largest * torch.linalg.vector_norm(values / largest))


def gradient_flow(
    model: TaskModel,
    batch: Any,
    name: str = "",
    layer: str = "encoder",
    dtype: torch.dtype | None = torch.float64,
) -> GradientFlow:
    """Measure ``||dL/dh_t||`` for every step, layer and direction of a model's recurrent layer.

    The model itself is untouched: a deep copy runs in eval mode (no dropout) with its recurrent
    layer switched to the Python time loop (``kernel="loop"``), every parameter taking gradients
    (frozen ones too: ``dL/dh_t`` does not depend on which weights train) and every cell wrapped
    so that each returned ``h_t`` keeps its gradient; then ``copy.step(batch).loss.backward()``.
    The copy and the batch's floating tensors run in float64 by default: a vanishing gradient
    often falls below float32's smallest number (1e-45) and would read as exactly 0.

    Args:
        model: a task model whose ``step(batch)`` returns the loss.
        batch: one batch, as the model's ``step`` takes it.
        name: the label of the result (defaults to the layer and its cell class:
            ``"decoder.rnn (LSTMCell)"``, so that the layers of one model, the separate
            ``layers.0`` and ``layers.1`` of a language model say, tell apart in tables, JSON
            and plots).
        layer: the attribute path of the :class:`Recurrent` layer inside the model.
        dtype: the floating type of the measurement; None keeps the model's own.

    Returns:
        the norms per layer, direction and step (see :class:`GradientFlow`). In a padded batch
        (lengths given to the layer, a packed sequence, or the lengths the model declares for
        a layer it runs over padding without them: :meth:`TaskModel.layer_lengths`, as the
        decoder of :class:`~rnnkit.models.seq2seq.Seq2Seq` over its padded targets) padded
        steps count neither in the norms nor in the gate statistics, the steps after the
        longest sequence's last are left out (a batch padded further reads as without them),
        and with lengths given to the layer each sequence's backward direction is mapped back
        within its own length. A layer run once per step, each run carrying on from the state
        the last one returned (a decoder with input feeding), gives one series of all steps.

    Shape:
        norms: ``[num_layers][num_directions][T]``.
    """
    if not isinstance(model, TaskModel):
        raise ValueError(f"gradient_flow needs a task model, whose step(batch) gives the loss "
                         f"(rnnkit.training.TaskModel), not a {type(model).__name__}; wrap the "
                         "layer in one, and name the layer's attribute with layer=...")
    probe = copy.deepcopy(model)
    probe.eval()
    # dL/dh_t does not depend on which weights train: a frozen layer's h_t took no gradient
    # (every norm read 0), a frozen model's loss none at all (backward failed)
    probe.requires_grad_(True)
    try:
        recurrent = probe.get_submodule(layer)
    except AttributeError:
        layers = [name for name, module in probe.named_modules() if isinstance(module, Recurrent)]
        raise ValueError(f"gradient_flow: {type(model).__name__} has no {layer!r}; its "
                         f"recurrent layers: {', '.join(layers) or 'none'} (pass layer=...)"
                         ) from None
    if not isinstance(recurrent, Recurrent):
        raise ValueError(
            f"gradient_flow: {type(model).__name__}.{layer} is a {type(recurrent).__name__},"
            " not a rnnkit Recurrent layer; pass layer='<attribute path of the recurrent layer>'"
        )
    recurrent.kernel = "loop"
    runs: list[tuple[Tensor | None, bool]] = []  # per call: lengths, carries on the last state
    returned: list[Any] = []  # the final state of every call

    def before(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        runs.append((lengths_of(args, kwargs), bool(returned) and hx is returned[-1]))

    recurrent.register_forward_pre_hook(before, with_kwargs=True)
    recurrent.register_forward_hook(lambda module, args, output: returned.append(output[1]))
    recorders = [RecordingCell(recurrent.cell(i)) for i in range(len(recurrent.cells))]
    for index, recorder in enumerate(recorders):
        recurrent.cells[index] = recorder
    if dtype is not None:
        probe.to(dtype)
        batch = _cast(batch, dtype)
    probe.zero_grad(set_to_none=True)
    with torch.enable_grad():
        loss = probe.step(batch).loss
        loss.backward()
    directions = recurrent.num_directions
    norms: list[list[list[float]]] = []
    gates: list[list[dict[str, dict[str, float]]]] = []
    where = f"{type(model).__name__}.{layer}"
    given = one_series(runs, directions, where)  # the lengths the layer ran with
    hidden = recorders[0].hidden
    lengths = given if given is not None else model_lengths(probe, batch, layer, where,
                                                            len(hidden), hidden[0].shape[0])
    for index, recorder in enumerate(recorders):
        grads = torch.stack([torch.zeros_like(h) if h.grad is None else h.grad
                             for h in recorder.hidden])  # [T, B, H], in the order the loop ran
        # real: [T, B, 1], True on the real steps, in the order the loop ran (as the gates)
        grads, real = real_steps(grads, given, lengths, backward=index % directions == 1)
        series = [scaled_norm(step) for step in grads]
        if index % directions == 0:
            norms.append([])
            gates.append([])
        norms[-1].append(series)
        gates[-1].append(recorder.gate_summary(real))
    label = name or f"{layer} ({type(recorders[0].inner).__name__})"
    return GradientFlow(label, norms, float(loss.detach()), gates)


def _cast(batch: Any, dtype: torch.dtype) -> Any:
    """The batch with every floating tensor (inside tuples, lists, dicts) converted to dtype."""
    return map_tensors(batch, lambda t: t.to(dtype) if t.is_floating_point() else t)


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by None, recursively, so that the value is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
