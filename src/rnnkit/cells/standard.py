"""Weights shared by the three textbook cells, laid out exactly as in ``torch.nn``."""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar, cast

import torch
from torch import Tensor, nn

from rnnkit import functional as RF
from rnnkit.cells.base import RecurrentCell, State, check_step_input
from rnnkit.cells.torch_compat import copy_weights

CellT = TypeVar("CellT", bound="StandardCell")


class StandardCell(RecurrentCell):
    """A cell with ``weight_ih [G*H, I]``, ``weight_hh [G*H, H]``, ``bias_ih``, ``bias_hh [G*H]``.

    ``G`` is the number of gate blocks (1 for RNN, 3 for GRU, 4 for LSTM). The names, shapes and
    gate order are those of ``torch.nn.RNNCell``/``LSTMCell``/``GRUCell``, so
    :meth:`from_torch` and :meth:`to_torch` copy weights without reshaping.
    """

    num_gates: ClassVar[int] = 1
    torch_class: ClassVar[type[nn.Module]] = nn.RNNCell

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size)
        self.bias = bias
        rows = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        # reads h_(t-1): hidden_size wide, or an LSTM's proj_size
        self.weight_hh = nn.Parameter(torch.empty(rows, self.state_widths()[0]))
        self.bias_ih: nn.Parameter | None
        self.bias_hh: nn.Parameter | None
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))
            self.bias_hh = nn.Parameter(torch.empty(rows))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: every weight uniform in ``[-1/sqrt(H), 1/sqrt(H)]``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def forward(self, x: Tensor, state: State | None = None) -> State:
        """One step; ``state`` None starts from zeros."""
        state = check_step_input(self, x, state)
        return self.step(self.project_inputs(x), state)

    def project_inputs(self, x: Tensor) -> Tensor:
        """``W_ih x_t + b_ih`` for all steps at once: ``[T, B, I] -> [T, B, G*H]``."""
        return RF.linear(x, self.weight_ih, self.bias_ih)

    def torch_kwargs(self) -> dict[str, object]:
        """Constructor arguments of the matching ``torch.nn`` cell."""
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias}

    @classmethod
    def from_torch(cls: type[CellT], cell: nn.Module) -> CellT:
        """Build this cell with a copy of a ``torch.nn`` cell's weights."""
        if not isinstance(cell, cls.torch_class):
            raise ValueError(
                f"{cls.__name__}.from_torch expects a torch.nn.{cls.torch_class.__name__},"
                f" got {type(cell).__name__}"
            )
        source = cast(Any, cell)
        kwargs: dict[str, Any] = {"bias": source.bias}
        if isinstance(cell, nn.RNNCell):
            kwargs["nonlinearity"] = source.nonlinearity
        ours = cls(source.input_size, source.hidden_size, **kwargs)
        ours.to(device=source.weight_ih.device, dtype=source.weight_ih.dtype)
        copy_weights(cell, ours)
        return ours

    def to_torch(self) -> nn.Module:
        """A ``torch.nn`` cell holding a copy of these weights."""
        theirs = self.torch_class(**self.torch_kwargs())
        theirs.to(device=self.weight_ih.device, dtype=self.weight_ih.dtype)
        copy_weights(self, theirs)
        return theirs

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"
