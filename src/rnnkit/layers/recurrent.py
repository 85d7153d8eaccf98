"""The one recurrent layer: any cell over time, stacked, bidirectional, variable lengths.

The layer runs PyTorch's fused kernel when its cells are the plain RNN/LSTM/GRU cells and no
option needs more (``kernel == "fused"``); otherwise it runs :func:`run_cell`, rnnkit's own time
loop over the cell's step, on every layer and direction (``kernel == "loop"``; the stack is in
:mod:`rnnkit.layers.stacked`). Both paths take and return torch's layouts; the weights go by
torch's names (:class:`~rnnkit.layers.naming.TorchNamedLayer`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.cells import RecurrentCell, init_recurrent_
from rnnkit.cells.base import refuse_torchscript
from rnnkit.cells.torch_compat import WEIGHT_NAMES
from rnnkit.layers.fused import (
    flatten_for_cudnn,
    fused_forward,
    is_plain_cell,
    loop_reason,
)
from rnnkit.layers.lengths import check_lengths
from rnnkit.layers.naming import TorchNamedLayer
from rnnkit.layers.stacked import run_stacked
from rnnkit.layers.unbatched import batch_of_one, without_batch
from rnnkit.layers.validate import check_cells, check_hidden, check_input, check_layer_options

CellFactory = Callable[[int, int], RecurrentCell]
_WARNED: set[str] = set()


class Recurrent(TorchNamedLayer):
    """Runs a cell over time; ``torch.nn.RNN``'s interface for any cell.

    Args:
        cell: a factory ``(input_size, hidden_size) -> RecurrentCell`` called once per layer
            and direction (a cell class works).
        input_size: features of the input.
        hidden_size: features of each direction's state.
        num_layers: stacked layers; layer k+1 reads layer k's output.
        bidirectional: run a second cell per layer from the end backwards and concatenate.
        dropout: dropout on each layer's output except the last's (as in ``torch.nn``).
        recurrent_dropout: variational dropout on ``h_(t-1)``: one mask per sequence, reused at
            every step (Gal & Ghahramani 2016). Needs the loop path.
        batch_first: inputs and outputs are ``[B, T, F]`` instead of ``[T, B, F]``.
        init: ``"torch"`` (the cells' own default) or ``"recurrent"`` (orthogonal recurrent
            weights, forget-gate bias 1; see :func:`rnnkit.cells.init_recurrent_`).
        kernel: ``"auto"`` (fused when possible), ``"fused"`` (error if impossible) or ``"loop"``.

    Shape:
        input: ``[T, B, I]`` (``[B, T, I]`` if batch_first) or a ``PackedSequence``; or, as in
            ``torch.nn``, one unbatched sequence ``[T, I]``, whose ``hx``, output and ``h_n``
            then have no batch dimension.
        hx: the initial state, ``[L*D, B, H]`` (a tuple ``(h_0, c_0)`` for an LSTM); zeros if None.
        lengths: ``[B]`` true lengths of a padded batch (optional).
        output: ``[T, B, D*H]`` (zero on padded steps), or a ``PackedSequence`` for one.
        h_n: ``[L*D, B, H]`` (a tuple ``(h_n, c_n)`` for an LSTM), the state at each sequence's
            own last step; order layer 0 forward, layer 0 backward, layer 1 forward, ...
        With an LSTM's ``proj_size`` P, ``h`` is P wide: output ``[T, B, D*P]``, ``h_0`` and
        ``h_n`` ``[L*D, B, P]``; ``c`` stays ``[L*D, B, H]`` (``RecurrentCell.state_widths``).

    Example:
        >>> import torch
        >>> from rnnkit.cells import LayerNormLSTMCell
        >>> layer = Recurrent(LayerNormLSTMCell, 8, 16, num_layers=2, bidirectional=True)
        >>> output, (h_n, c_n) = layer(torch.randn(5, 3, 8), lengths=torch.tensor([5, 2, 4]))
        >>> output.shape, h_n.shape, layer.kernel
        (torch.Size([5, 3, 32]), torch.Size([4, 3, 16]), 'loop')
    """

    def __init__(
        self,
        cell: CellFactory,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        batch_first: bool = False,
        init: str = "torch",
        kernel: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        num_layers = check_layer_options(name, cell, num_layers, dropout, recurrent_dropout,
                                         init, kernel, device, dtype, bidirectional, batch_first)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.batch_first = bool(batch_first)  # a NumPy bool: torch's kernels take bools
        self.cells = nn.ModuleList([cell(input_size, hidden_size)])
        if not isinstance(self.cells[0], RecurrentCell):
            raise ValueError(f"{name}: the cell factory must build RecurrentCell objects")
        # each direction's output: h, hidden_size wide unless projected (LSTM proj_size)
        widths = self.cell(0).state_widths()
        for index in range(1, num_layers * self.num_directions):
            layer_input = input_size if index < self.num_directions else \
                widths[0] * self.num_directions
            self.cells.append(cell(layer_input, hidden_size))
        if not all(isinstance(c, RecurrentCell) for c in self.cells):
            raise ValueError(f"{name}: the cell factory must build RecurrentCell objects")
        check_cells(name, [self.cell(i) for i in range(len(self.cells))], input_size,
                    hidden_size, self.num_directions)
        self.state_size = self.cell(0).state_size
        self.state_widths = widths
        self.proj_size = widths[0] if widths[0] != hidden_size else 0  # torch.nn's attribute
        self.init = init
        if init == "recurrent":
            for index in range(len(self.cells)):
                init_recurrent_(self.cell(index))
        self.loop_reason = loop_reason(self.cells, self.recurrent_dropout)
        if kernel == "fused" and self.loop_reason:
            raise ValueError(f"{name}: kernel='fused' is impossible: {self.loop_reason}")
        self.kernel = "loop" if kernel == "loop" or self.loop_reason else "fused"
        if kernel == "auto" and self.loop_reason and self.loop_reason not in _WARNED:
            _WARNED.add(self.loop_reason)
            warnings.warn(
                f"rnnkit {name}: {self.loop_reason}, so it runs rnnkit's time loop"
                " (kernel='loop'), slower than PyTorch's fused kernel",
                stacklevel=2 if type(self) is Recurrent else 3,
            )
        if dropout > 0 and num_layers == 1:  # as torch.nn warns
            warnings.warn(f"rnnkit {name}: dropout={dropout} acts between stacked layers, so "
                          "with num_layers=1 it does nothing (recurrent_dropout drops within "
                          "the layer)", stacklevel=2 if type(self) is Recurrent else 3)
        self._use_torch_names(self.num_directions)  # torch.nn's weight names
        if device is not None or dtype is not None:  # as torch.nn's factory arguments
            self.to(device=device, dtype=dtype)

    def cell(self, index: int) -> RecurrentCell:
        """The cell of layer ``index // D``, direction ``index % D``."""
        return cast(RecurrentCell, self.cells[index])

    def reset_parameters(self) -> None:
        """Draw the weights afresh with the layer's ``init``, as ``torch.nn.LSTM``'s method
        does: e.g. after building on ``device="meta"`` and ``.to_empty(device=...)``."""
        for cell in self.cells:
            reset = getattr(cell, "reset_parameters", None)
            if not callable(reset):
                raise ValueError(f"{type(self).__name__}.reset_parameters: the cell"
                                 f" {type(cell).__name__} has no reset_parameters method")
            reset()
            if getattr(self, "init", "torch") == "recurrent":
                init_recurrent_(cast(RecurrentCell, cell))

    # -- which path -----------------------------------------------------------------------
    def flat_weights(self) -> list[Tensor]:
        """Weights in torch's flat order: per layer and direction ``w_ih, w_hh[, b_ih, b_hh]``.

        Read by name, as ``torch.nn`` does: a weight under ``torch.nn.utils.parametrize``
        (orthogonal, weight_norm, ...) is the parametrized value, not the raw tensor that
        ``parameters()`` lists last under another name.
        """
        weights: list[Tensor] = []
        for cell in self.cells:
            weights.extend(w for name in WEIGHT_NAMES
                           if (w := getattr(cell, name, None)) is not None)
        return weights

    def flatten_parameters(self) -> None:
        """Lay the weights out as one block of GPU memory, the layout cuDNN reads.

        Without it cuDNN copies every weight into such a block on every call (and PyTorch warns
        that the weights "are not part of single contiguous chunk of memory"). The parameters
        stay the same objects; they become views into the block. ``torch.nn.LSTM`` does the
        same on ``.to(device)``. A no-op on the CPU and on the loop path.
        """
        if self.kernel == "fused":
            flatten_for_cudnn(
                self.flat_weights(), self.cell(0).fused_mode or "",
                has_biases=getattr(self.cell(0), "bias", True), input_size=self.input_size,
                hidden_size=self.hidden_size, proj_size=self.proj_size,
                num_layers=self.num_layers, batch_first=self.batch_first,
                bidirectional=self.bidirectional)

    def _apply(self, fn: Callable[..., Any], recurse: bool = True) -> Recurrent:
        result = super()._apply(fn, recurse)
        self.flatten_parameters()  # after .to("cuda"), .cuda(), .half(), ...
        return result

    def __prepare_scriptable__(self) -> Recurrent:
        """Called by ``torch.jit.script``, which fails deep inside on rnnkit's code."""
        plain = all(is_plain_cell(c) for c in self.cells)
        raise refuse_torchscript(self, plain and hasattr(self, "to_torch"))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.flatten_parameters()  # a copy (copy.deepcopy, pickle) gets weights of its own

    # -- forward --------------------------------------------------------------------------
    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Tensor | tuple[Tensor, ...] | None = None,
        lengths: Tensor | list[int] | None = None,
    ) -> tuple[Tensor | PackedSequence, Tensor | tuple[Tensor, ...]]:
        name = type(self).__name__
        reference: Tensor | None = next(self.parameters(), None)
        # the input's tensor (its dtype also the batch of one made of an unbatched input's)
        data = input.data if isinstance(input, PackedSequence) else input
        if reference is None:  # a cell without weights: the input sets dtype and device
            reference = data if isinstance(data, Tensor) else torch.empty(0)
        unbatched = isinstance(input, Tensor) and input.dim() == 2  # torch.nn's one [T, I]
        if unbatched:
            assert isinstance(input, Tensor)
            check_input(name, input, reference, self.input_size, rank=2)
            input, hx = batch_of_one(name, input, hx, lengths, self._state_shapes(1),
                                     self.batch_first)
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError(f"{name}: pass lengths or a PackedSequence, not both")
            time_steps, batch = int(input.batch_sizes.shape[0]), int(input.batch_sizes[0])
            check_input(name, input.data, reference, self.input_size, rank=2)
        else:
            check_input(name, input, reference, self.input_size, rank=3)
            time_steps, batch = input.shape[:2] if not self.batch_first else input.shape[1::-1]
            if lengths is not None:
                lengths = check_lengths(lengths, time_steps, batch, self.batch_first)
        states = check_hidden(name, hx, self._state_shapes(batch), reference, data.dtype)

        if self.kernel == "fused":
            output, final = fused_forward(
                self.cell(0).fused_mode or "",
                input,
                states,
                self.flat_weights(),
                has_biases=bool(getattr(self.cell(0), "bias", True)),
                num_layers=self.num_layers,
                dropout=self.dropout,
                training=self.training,
                bidirectional=self.bidirectional,
                batch_first=self.batch_first,
                lengths=lengths,
            )
        else:
            output, final = run_stacked(
                [self.cell(i) for i in range(len(self.cells))], input, states, lengths,
                num_directions=self.num_directions, batch_first=self.batch_first,
                dropout=self.dropout,
                recurrent_dropout=self.recurrent_dropout, training=self.training,
            )
        if unbatched:
            assert isinstance(output, Tensor)
            output, final = without_batch(output, final, self.batch_first)
        return output, final[0] if self.state_size == 1 else final

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        """``[L*D, B, width]`` for each state tensor (``h``, ``c``: widths differ with
        ``proj_size``)."""
        return [(self.num_layers * self.num_directions, batch, width)
                for width in self.state_widths]

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}", f"num_layers={self.num_layers}"]
        if self.proj_size:
            parts.append(f"proj_size={self.proj_size}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.recurrent_dropout:
            parts.append(f"recurrent_dropout={self.recurrent_dropout}")
        parts.append(f"kernel={self.kernel!r}")
        return ", ".join(parts)
