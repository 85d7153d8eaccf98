"""The cell wrapper of :func:`~rnnkit.training.diagnostics.gradient_flow`: it runs a cell's steps
unchanged and keeps every ``h_t`` (its gradient retained) and, for the plain LSTM and GRU
cells, the values of their sigmoid gates."""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.cells import GRUCell, LSTMCell, RecurrentCell, State

SATURATED = 0.1  # a sigmoid gate counts as saturated below 0.1 or above 0.9
LSTM_GATES = {"input": 0, "forget": 1, "output": 3}  # sigmoid gate blocks of i|f|g|o
GRU_GATES = {"reset": 0, "update": 1}  # sigmoid gate blocks of r|z|n


class RecordingCell(RecurrentCell):
    """Delegates to a cell and keeps every ``h_t`` it returns, with its gradient retained."""

    def __init__(self, cell: RecurrentCell) -> None:
        super().__init__(cell.input_size, cell.hidden_size)
        self.inner = cell
        self.state_size = cell.state_size  # type: ignore[misc]  # the wrapped cell's state
        self.hidden: list[Tensor] = []
        self._gates: dict[str, list[Tensor]] = {}

    def state_widths(self) -> tuple[int, ...]:
        return self.inner.state_widths()  # an LSTM with proj_size: h is P wide, c H

    def project_inputs(self, x: Tensor) -> Tensor:
        return self.inner.project_inputs(x)  # every run's steps are kept, in the order they ran

    def step(self, x_projected: Tensor, state: State) -> State:
        new_state = self.inner.step(x_projected, state)
        h = new_state[0]
        if h.requires_grad:
            h.retain_grad()
        self.hidden.append(h)
        self._record_gates(x_projected, state)
        return new_state

    def forward(self, x: Tensor, state: State) -> State:
        return self.inner(x, state)

    @torch.no_grad()
    def _record_gates(self, x_projected: Tensor, state: State) -> None:
        cell = self.inner
        if type(cell) not in (LSTMCell, GRUCell):
            return  # only the plain cells: their gates are recomputed from the same formulas
        assert isinstance(cell, LSTMCell | GRUCell)
        hidden = cell.hidden_size
        h_proj = torch.nn.functional.linear(state[0], cell.weight_hh, cell.bias_hh)
        if isinstance(cell, LSTMCell):
            pre, blocks = x_projected + h_proj, LSTM_GATES  # [B, 4H]
        else:
            pre, blocks = x_projected[:, : 2 * hidden] + h_proj[:, : 2 * hidden], GRU_GATES
        for gate, block in blocks.items():
            values = torch.sigmoid(pre[:, block * hidden : (block + 1) * hidden])  # [B, H]
            self._gates.setdefault(gate, []).append(values)

    def gate_summary(self, real: Tensor | None = None) -> dict[str, dict[str, float]]:
        """Mean and saturated share of each sigmoid gate over steps, batch and units; with
        ``real`` (``[T, B, 1]``, True on real steps in the order the cell ran) over real steps
        only."""
        summary = {}
        for gate, values in self._gates.items():
            stacked = torch.stack(values)  # T x [B, H] -> [T, B, H]
            if real is not None:
                stacked = stacked[real.expand_as(stacked)]  # the real steps' values
            saturated = (stacked < SATURATED) | (stacked > 1 - SATURATED)
            summary[gate] = {
                "mean": float(stacked.mean()),
                "saturated": float(saturated.float().mean()),
            }
        return summary
