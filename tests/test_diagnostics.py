"""Gradient flow through time: training.diagnostics, viz.gradient_flow and the demonstration
(pipelines.demonstration)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

import rnnkit
from rnnkit.cells import LSTMCell, RecurrentCell
from rnnkit.config import ModelConfig
from rnnkit.data.synthetic import make_split
from rnnkit.models.synthetic import SyntheticTaskModel
from rnnkit.pipelines.demonstration import ExplodeSettings, run_demonstration
from rnnkit.training.diagnostics import GradientFlow, flow_table, gradient_flow, json_safe
from rnnkit.training.task import StepOutput, TaskModel
from rnnkit.viz.gradient_flow import (
    Curve,
    plot_exploding,
    plot_gradient_flow,
    plot_training_curves,
)

PNG = b"\x89PNG\r\n\x1a\n"



def _model(cell: str, hidden: int = 5, **options: Any) -> SyntheticTaskModel:
    torch.manual_seed(0)
    return SyntheticTaskModel("adding", ModelConfig(cell=cell, hidden_size=hidden, **options))


def test_one_norm_per_step_layer_and_direction_and_the_model_is_untouched() -> None:
    model = _model("lstm", num_layers=2, bidirectional=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flow = gradient_flow(model, make_split("adding", 3, 7, seed=0), name="lstm")
    assert [[len(d) for d in layer] for layer in flow.norms] == [[7, 7], [7, 7]]
    assert math.isfinite(flow.loss) and flow.length == 7
    assert set(flow.gates[1][0]) == {"input", "forget", "output"}
    assert model.encoder.kernel == "fused" and all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(norm > 0 for norm in flow.norms[0][0] + flow.norms[1][0])


def _manual_run(cell: RecurrentCell, seq: Tensor) -> list[Tensor]:
    """h_t for every step of ``seq [T, B, I]``, by calling the cell by hand."""
    state = cell.initial_state(seq.shape[1], dtype=seq.dtype)
    hidden = []
    for t in range(seq.shape[0]):
        state = cell(seq[t], state)
        hidden.append(state[0])
    return hidden


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_matches_autograd_on_a_manual_loop_in_both_directions(cell: str) -> None:
    model = _model(cell, bidirectional=True).double()
    inputs, targets = make_split("adding", 3, 6, seed=1)
    inputs, targets = inputs.double(), targets.double()
    seq = inputs.transpose(0, 1)  # [B, T, I] -> [T, B, I]
    forward = _manual_run(model.encoder.cell(0), seq)
    backward = _manual_run(model.encoder.cell(1), seq.flip(0))  # backward[k]: time T-1-k
    last = torch.cat([forward[-1], backward[-1]], dim=1)  # each direction's final state
    loss = F.mse_loss(model.head(last).squeeze(1), targets)
    model_loss = model.step((inputs, targets)).loss.detach()
    assert float(loss.detach()) == pytest.approx(float(model_loss), rel=1e-12)
    grads = torch.autograd.grad(loss, forward + backward, allow_unused=True)
    norms = [0.0 if g is None else float(g.norm()) for g in grads]
    expected_forward, expected_backward = norms[:6], norms[6:][::-1]  # back to input time

    flow = gradient_flow(model, (inputs, targets))
    assert flow.norms[0][0] == pytest.approx(expected_forward, rel=1e-9, abs=1e-300)
    assert flow.norms[0][1] == pytest.approx(expected_backward, rel=1e-9, abs=1e-300)
    # the backward direction reads the sequence from the end: its final state (at step 0,
    # after the whole sequence) feeds the head, and every earlier one reaches the loss too
    assert all(norm > 0.0 for norm in flow.norms[0][1])


def _written_step(kind: str, cell: Any, x: Tensor, state: tuple[Tensor, ...]
                  ) -> tuple[tuple[Tensor, ...], dict[str, Tensor]]:
    """One step of the cell's equations written out from its weights (no rnnkit code); the new
    state and the sigmoid gates."""
    pre_x = x @ cell.weight_ih.T + cell.bias_ih
    pre_h = state[0] @ cell.weight_hh.T + cell.bias_hh
    if kind == "rnn":
        return (torch.tanh(pre_x + pre_h),), {}
    if kind == "lstm":
        i, f, g, o = (pre_x + pre_h).chunk(4, dim=1)
        i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
        c = f * state[1] + i * torch.tanh(g)
        return (o * torch.tanh(c), c), {"input": i, "forget": f, "output": o}
    (x_r, x_z, x_n), (h_r, h_z, h_n) = pre_x.chunk(3, dim=1), pre_h.chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    h = (1 - z) * torch.tanh(x_n + r * h_n) + z * state[0]
    return (h,), {"reset": r, "update": z}


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_norms_and_gates_match_the_written_equations_on_two_bidirectional_layers(
        kind: str) -> None:
    model = _model(kind, num_layers=2, bidirectional=True).double()
    inputs, targets = make_split("adding", 4, 9, seed=2)
    inputs, targets = inputs.double(), targets.double()
    flow = gradient_flow(model, (inputs, targets))
    layer_input, hidden, gates, finals = inputs.transpose(0, 1), [], [], []  # [T, B, I]
    for layer in range(2):
        outputs = []
        for direction in range(2):
            cell = model.encoder.cell(2 * layer + direction)
            zero = torch.zeros(4, 5, dtype=torch.float64)
            state = (zero, zero) if kind == "lstm" else (zero,)
            states: list[Tensor] = [zero] * 9
            seen: dict[str, list[Tensor]] = {}
            for t in range(9) if direction == 0 else range(8, -1, -1):
                state, step_gates = _written_step(kind, cell, layer_input[t], state)
                states[t] = state[0]
                for gate, values in step_gates.items():
                    seen.setdefault(gate, []).append(values.detach())
            hidden.append(states)
            gates.append(seen)
            outputs.append(torch.stack(states))
            finals.append(state[0])
        layer_input = torch.cat(outputs, dim=2)
    loss = F.mse_loss(model.head(torch.cat(finals[2:], dim=1)).squeeze(1), targets)
    grads = torch.autograd.grad(loss, [h for states in hidden for h in states])
    for index in range(4):
        expected = [float(g.norm()) for g in grads[9 * index : 9 * (index + 1)]]
        assert flow.norms[index // 2][index % 2] == pytest.approx(expected, rel=1e-12)
        reported = flow.gates[index // 2][index % 2]
        assert set(reported) == set(gates[index])
        for gate, values in gates[index].items():
            stacked = torch.stack(values)
            saturated = ((stacked < 0.1) | (stacked > 0.9)).double().mean()
            assert reported[gate]["mean"] == pytest.approx(float(stacked.mean()), rel=1e-12)
            assert reported[gate]["saturated"] == pytest.approx(float(saturated), abs=1e-6)


class _PaddedLSTM(TaskModel):
    """A bidirectional LSTM over a padded batch; the loss reads one direction's final state."""

    def __init__(self, direction: int) -> None:
        super().__init__()
        self.direction = direction
        self.encoder = rnnkit.LSTM(2, 3, bidirectional=True)

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        x, lengths = batch
        _, (h, _) = self.encoder(x, lengths=lengths)
        return StepOutput(loss=h[self.direction].sum(), count=1)


@pytest.mark.parametrize("direction", [0, 1])
def test_a_padded_batch_maps_each_sequence_within_its_own_length(direction: int) -> None:
    torch.manual_seed(0)
    model, x, lengths = _PaddedLSTM(direction), torch.randn(6, 2, 2), torch.tensor([6, 2])
    flow = gradient_flow(model, (x, lengths))
    expected = []  # each sequence alone: the same norms, squared and summed per input step
    for b, length in enumerate(lengths.tolist()):
        alone = gradient_flow(model, (x[:length, b : b + 1], torch.tensor([length])))
        expected.append(alone.norms[0][direction] + [0.0] * (6 - length))
    combined = [math.sqrt(a * a + b * b) for a, b in zip(*expected, strict=True)]
    assert flow.norms[0][direction] == pytest.approx(combined, rel=1e-9, abs=1e-300)
    short = gradient_flow(model, (x[:2, 1:], torch.tensor([2])))  # the short one alone
    padded = gradient_flow(model, (x[:, 1:], torch.tensor([2])))  # the same, padded to 6
    for gate, stats in short.gates[0][direction].items():
        assert padded.gates[0][direction][gate]["mean"] == pytest.approx(stats["mean"], rel=1e-9)


class _ProjectedLSTM(TaskModel):
    """An LSTM with proj_size (h 2 wide, c 3) over time-major x; the loss reads every output."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = rnnkit.LSTM(2, 3, proj_size=2)

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        out, _ = self.encoder(batch)
        return StepOutput(loss=out.sin().sum(), count=1)


def test_an_lstm_with_proj_size_is_measured() -> None:
    """The recorder kept one state tensor as wide as hidden_size, so gradient_flow on an LSTM
    with proj_size failed with '_RecordingCell: expected a state of 1 tensor(s), got 2'."""
    torch.manual_seed(0)
    model, x = _ProjectedLSTM().double(), torch.randn(5, 2, 2, dtype=torch.float64)
    cell = model.encoder.cell(0)
    assert isinstance(cell, LSTMCell)
    hidden = _manual_run(cell, x)
    grads = torch.autograd.grad(torch.stack(hidden).sin().sum(), hidden)
    flow = gradient_flow(model, x)
    assert flow.norms[0][0] == pytest.approx([float(g.norm()) for g in grads], rel=1e-12)
    state, forget = cell.initial_state(2, dtype=torch.float64), []
    for t in range(5):  # the forget gate from the weights: h_(t-1) is the projected one
        pre = x[t] @ cell.weight_ih.T + cell.bias_ih + state[0] @ cell.weight_hh.T + cell.bias_hh
        forget.append(torch.sigmoid(pre[:, 3:6]).detach())
        state = cell(x[t], state)
    expected = float(torch.stack(forget).mean())
    assert flow.gates[0][0]["forget"]["mean"] == pytest.approx(expected, rel=1e-12)


def test_float64_measurement_sees_below_float32_range() -> None:
    model = _model("rnn", hidden=8, init="torch")
    batch = make_split("adding", 4, 200, seed=0)
    exact = gradient_flow(model, batch).norms[0][0][0]
    assert 0.0 < exact < 1e-45  # would underflow to 0 in float32
    assert gradient_flow(model, batch, dtype=None).norms[0][0][0] == 0.0


@pytest.mark.parametrize("frozen", ["encoder", "head", ""])
def test_frozen_weights_change_no_norm(frozen: str) -> None:
    """dL/dh_t does not depend on which weights train: with the recurrent layer frozen (a
    probe on a fixed encoder) its h_t took no gradient, and every norm read 0 ("no path to
    the loss"); with the whole model frozen, backward failed with "element 0 of tensors does
    not require grad". The copy measured takes gradients everywhere; the model keeps its
    flags."""
    model = _model("gru", num_layers=2)
    batch = make_split("adding", 4, 8, seed=3)
    expected = gradient_flow(model, batch)
    part = model.get_submodule(frozen) if frozen else model
    part.requires_grad_(False)
    flow = gradient_flow(model, batch)
    assert flow.norms == expected.norms and flow.gates == expected.gates
    assert all(norm > 0 for layer in flow.norms for series in layer for norm in series)
    assert not any(p.requires_grad for p in part.parameters())


def test_vanilla_rnn_vanishes_where_an_open_forget_gate_keeps_the_gradient() -> None:
    batch = make_split("adding", 8, 50, seed=0)
    rnn = _model("rnn", hidden=16, init="torch")
    lstm = _model("lstm", hidden=16, init="torch")
    cell = lstm.encoder.cell(0)
    assert isinstance(cell, LSTMCell) and cell.bias_ih is not None
    with torch.no_grad():  # forget gate open, as a trained LSTM learns to set it
        cell.bias_ih[16:32] = 4.0
    rnn_orders = gradient_flow(rnn, batch).rows()[0]["orders"]
    lstm_orders = gradient_flow(lstm, batch).rows()[0]["orders"]
    assert rnn_orders < -6 and lstm_orders > -3


def test_rows_table_and_json() -> None:
    flow = GradientFlow("rnn", [[[1e-4, 1e-2, 1e-1], [0.0, 0.5, 1.0]]], loss=0.3)
    forward, backward = flow.rows()
    assert forward["orders"] == pytest.approx(-3.0) and forward["ratio"] == pytest.approx(1e-3)
    assert backward["orders"] == -math.inf
    table = flow_table([flow])
    assert "| rnn | 0 | fwd |" in table and "-3.0" in table and "-inf" in table
    text = json.dumps(flow.to_dict(), allow_nan=False)
    assert json.loads(text)["summary"][1]["orders"] is None
    assert json_safe({"a": [math.nan, 1.0]}) == {"a": [None, 1.0]}


def test_wrong_layer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a rnnkit Recurrent layer"):
        gradient_flow(_model("gru"), make_split("adding", 2, 4, seed=0), layer="head")
    with pytest.raises(ValueError, match="has no 'decoder'; its recurrent layers: encoder"):
        gradient_flow(_model("gru"), make_split("adding", 2, 4, seed=0), layer="decoder")
    with pytest.raises(ValueError, match="needs a task model, whose step"):
        gradient_flow(rnnkit.LSTM(2, 3), torch.randn(4, 2, 2))  # type: ignore[arg-type]


class _SteppedLSTM(TaskModel):
    """Runs its layer over a whole sequence, or one step per call carrying the state on (as a
    decoder with input feeding does), or twice from zeros (two sequences, not one)."""

    def __init__(self, run: str) -> None:
        super().__init__()
        self.run = run
        self.encoder = rnnkit.LSTM(2, 3, num_layers=2)

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        if self.run == "whole":
            out, _ = self.encoder(batch)
        else:
            steps = []
            for t in range(batch.shape[0]):
                carried = None if self.run == "restarted" else state
                step_out, state = self.encoder(batch[t : t + 1], carried)
                steps.append(step_out)
            out = torch.cat(steps)
        return StepOutput(loss=out.square().sum(), count=1)


def test_a_layer_run_one_step_at_a_time_gives_every_step() -> None:
    """Each run of the layer started the recorded steps afresh, so a decoder with input feeding
    (one call per step) read as a single step: its last."""
    torch.manual_seed(0)
    model, x = _SteppedLSTM("whole"), torch.randn(6, 2, 2)
    whole = gradient_flow(model, x)
    model.run = "stepped"
    stepped = gradient_flow(model, x)
    assert stepped.length == 6
    for layer in range(2):
        assert stepped.norms[layer][0] == pytest.approx(whole.norms[layer][0], rel=1e-12)
        for gate, stats in whole.gates[layer][0].items():
            assert stepped.gates[layer][0][gate]["mean"] == pytest.approx(stats["mean"])
    model.run = "restarted"
    with pytest.raises(ValueError, match="ran 6 times in one step.*carries on from the state"):
        gradient_flow(model, x)


def test_an_unbatched_sequence_is_measured_as_a_batch_of_one() -> None:
    """The layer runs an unbatched input [T, I] by calling itself on a batch of one, which
    read as a second run: 'encoder ran 2 times in one step(batch)'."""
    torch.manual_seed(0)
    model, x = _SteppedLSTM("whole"), torch.randn(6, 2)
    batched = gradient_flow(model, x.unsqueeze(1))
    for run in ("whole", "stepped"):  # stepped: [1, I] per call, the unbatched state carried
        model.run = run
        unbatched = gradient_flow(model, x)
        for layer in range(2):
            assert unbatched.norms[layer][0] == pytest.approx(batched.norms[layer][0],
                                                              rel=1e-12)
            for gate, stats in batched.gates[layer][0].items():
                assert unbatched.gates[layer][0][gate]["mean"] == pytest.approx(stats["mean"])


def test_a_layer_that_never_ran_is_a_clear_error() -> None:
    model = _model("gru")
    model.spare = rnnkit.GRU(2, 3)  # type: ignore[assignment]
    with pytest.raises(ValueError, match="SyntheticTaskModel.spare did not run in step"):
        gradient_flow(model, make_split("adding", 2, 4, seed=0), layer="spare")


def test_plots_write_png(tmp_path: Path) -> None:
    flow = GradientFlow("gru", [[[1e-3, 1e-2, 1e-1], [0.0, 0.5, 1.0]]], loss=0.2)
    paths = [
        plot_gradient_flow({"init": [flow], "trained": [flow]}, tmp_path / "flow.png"),
        plot_training_curves([Curve("lstm", [10, 20], [0.2, 0.01])], tmp_path / "curves.png",
                             baseline=1 / 6, threshold=0.01),
        plot_exploding([Curve("no clipping", [1, 2, 3], [1.0, 1e9, math.inf], diverged_at=3)],
                       [Curve("no clipping", [1, 2], [1.0, 1e20], diverged_at=3)],
                       tmp_path / "exploding.png", clip_norm=1.0, baseline=1 / 6),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == PNG


def test_demonstration_writes_every_file_and_summary(tmp_path: Path) -> None:
    lines: list[str] = []
    summary = run_demonstration(
        length=30, hidden_size=16, steps=4, batch_size=16, eval_every=2, out_dir=tmp_path,
        log=lines.append, explode=ExplodeSettings(steps=60),
    )
    for name in ("gradient_flow.png", "training_curves.png", "exploding.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG
    saved = json.loads((tmp_path / "summary.json").read_text(), parse_constant=_no_constants)
    assert set(saved) >= {"task", "length", "baseline", "settings", "results", "exploding",
                          "gradient_flow", "claims", "seconds", "solved_rule"}
    assert set(saved["results"]) == {"rnn", "lstm", "gru"}
    assert set(saved["results"]["gru"]) >= {"test_loss", "loss_vs_baseline", "solved", "steps"}
    assert saved["results"]["lstm"]["steps"] == 4
    assert set(saved["gradient_flow"]) == {"at initialisation", "after training"}
    runs = saved["exploding"]["runs"]
    # W_hh orthogonal x2 and SGD lr 0.1: unclipped it blows up, clipped it stays finite
    assert runs["no clipping"]["diverged"] and runs["no clipping"]["diverged_at_step"] <= 60
    assert not runs["clip_norm=1"]["diverged"] and runs["clip_norm=1"]["steps_run"] == 60
    assert saved["claims"]["explodes_without_clipping"] is True
    assert saved["claims"]["clipping_prevents_it"] is True
    report = (tmp_path / "summary.md").read_text()
    assert "## Test results" in report and "| no clipping |" in report
    assert any("[gru] test loss" in line for line in lines)
    # the divergence is the demonstration's point: no advice on settings diagnose has not got
    diverged = [line for line in lines if line.startswith("[exploding] no clipping: diverged")]
    assert len(diverged) == 1 and "gradient norm became inf" in diverged[0]
    assert "train.lr" not in diverged[0] and "clip_norm" not in diverged[0]
    assert summary["results"]["rnn"]["test_loss"] == saved["results"]["rnn"]["test_loss"]


def test_demonstration_on_the_copy_task_reports_accuracy(tmp_path: Path) -> None:
    summary = run_demonstration(
        task="copy", cells=("gru",), length=5, hidden_size=8, steps=2, batch_size=8,
        out_dir=tmp_path, log=lambda line: None, explode=ExplodeSettings(steps=3),
    )
    result = summary["results"]["gru"]
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["solved"] is False
    assert result["steps"] == 2 and len(result["history"]) == 1  # below eval_every: not rounded
    assert summary["sequence_length"] == 25 and "accuracy" in summary["solved_rule"]
    assert len(summary["gradient_flow"]["after training"]["gru"]["norms"][0][0]) == 25
    # the titles said 'length 5' of plots that cover 25 steps: the copy task's length is its delay
    report = (tmp_path / "summary.md").read_text()
    assert report.startswith("# Vanishing and exploding gradients: copy, delay 5 (25 steps)\n")


def _no_constants(name: str) -> None:
    raise AssertionError(f"summary.json holds {name}, which is not valid JSON")


def test_demonstration_rejects_unknown_cells(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cells must be some of rnn, lstm, gru"):
        run_demonstration(cells=("rnn", "transformer"), out_dir=tmp_path)


def test_norms_do_not_overflow_inside_float64_and_the_plot_marks_0_and_inf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rnnkit.training.diagnostics import scaled_norm

    huge = torch.full((2, 3), 1e200, dtype=torch.float64)
    tiny = torch.full((32,), 1e-170, dtype=torch.float64)
    assert scaled_norm(huge) == pytest.approx(1e200 * math.sqrt(6), rel=1e-12)  # was inf
    assert scaled_norm(tiny) == pytest.approx(1e-170 * math.sqrt(32), rel=1e-12)  # was 0
    assert scaled_norm(torch.zeros(3)) == 0.0
    flow = GradientFlow("rnn", [[[math.inf, 1e200, 1e-60, 0.0, math.nan, 1.0]]], loss=0.2)
    drawn: list[tuple[list[float], str | None]] = []
    real = plt.Axes.scatter

    def spy(axes: Any, x: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append((list(y), kwargs.get("label")))
        return real(axes, x, y, *args, **kwargs)

    monkeypatch.setattr(plt.Axes, "scatter", spy)
    plot_gradient_flow({"init": [flow]}, tmp_path / "flow.png")
    assert drawn == [([pytest.approx(1e-61)], "0: no gradient"),  # below every real value
                     ([pytest.approx(1e201)], "inf: overflow")]  # above, not at the bottom


def test_clipping_is_not_credited_when_the_unclipped_run_never_diverged(tmp_path: Path) -> None:
    """With recurrent weights that do not explode (gain 0.5) neither run diverged, yet the
    claims read clipping_prevents_it: True, crediting clipping with preventing a divergence
    that never happened without it."""
    summary = run_demonstration(
        cells=("gru",), length=6, hidden_size=4, steps=1, batch_size=8, out_dir=tmp_path,
        log=lambda line: None, explode=ExplodeSettings(gain=0.5, steps=3),
    )
    runs = summary["exploding"]["runs"]
    assert not runs["no clipping"]["diverged"] and not runs["clip_norm=1"]["diverged"]
    assert summary["claims"]["explodes_without_clipping"] is False
    assert summary["claims"]["clipping_prevents_it"] is None  # nothing to prevent: not checked
    assert "- clipping_prevents_it: None" in (tmp_path / "summary.md").read_text()
