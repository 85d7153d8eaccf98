"""The cell interface: one time step of a recurrent network.

A cell owns its weights and maps ``(x_t, state_(t-1))`` to ``state_t``. The state is a tuple of
tensors, each ``[B, H]``; its first element is the hidden state ``h_t``, which is also the cell's
output. Any module that follows this interface can be run over time by
:class:`rnnkit.layers.Recurrent`, which then gives it stacking, bidirectionality, variable
lengths and recurrent dropout for free.

Example:
    >>> import torch
    >>> from rnnkit.cells import RecurrentCell
    >>> class MinimalCell(RecurrentCell):
    ...     def __init__(self, input_size: int, hidden_size: int) -> None:
    ...         super().__init__(input_size, hidden_size)
    ...         self.linear = torch.nn.Linear(input_size + hidden_size, hidden_size)
    ...     def forward(self, x, state):
    ...         return (torch.tanh(self.linear(torch.cat([x, state[0]], dim=1))),)
    >>> cell = MinimalCell(3, 5)
    >>> cell(torch.zeros(2, 3), cell.initial_state(2))[0].shape
    torch.Size([2, 5])
"""

from __future__ import annotations

import numbers
from typing import ClassVar

import torch
from torch import Tensor, nn

State = tuple[Tensor, ...]


class RecurrentCell(nn.Module):
    """Base class of every cell.

    Subclasses implement :meth:`forward`. For speed they may also split the input projection
    out of the time loop: :meth:`project_inputs` runs once over all time steps ``[T, B, I]`` and
    :meth:`step` then receives one projected slice per step. The defaults make ``step`` the same
    as ``forward``.

    Attributes:
        input_size: features of ``x_t``.
        hidden_size: features of ``h_t``.
        state_size: number of tensors in the state (1 for RNN/GRU, 2 for LSTM: ``(h, c)``).
        fused_mode: the name of PyTorch's fused kernel that computes exactly this cell
            (``"LSTM"``, ``"GRU"``, ``"RNN_TANH"``, ``"RNN_RELU"``), or ``None``.
    """

    state_size: ClassVar[int] = 1
    fused_mode: str | None = None

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size

    def initial_state(
        self,
        batch_size: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> State:
        """Zeros for every state tensor, each ``[B, width]`` (:meth:`state_widths`)."""
        size: object = batch_size  # numpy ints are ints; True is not
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{type(self).__name__}.initial_state: batch_size must be an int"
                             f" >= 0 (the rows of x), got {batch_size!r}")
        ref = next(self.parameters(), None)
        device = device if device is not None else (ref.device if ref is not None else None)
        dtype = dtype if dtype is not None else (ref.dtype if ref is not None else None)
        return tuple(torch.zeros(int(batch_size), width, device=device, dtype=dtype)
                     for width in self.state_widths())

    def state_widths(self) -> tuple[int, ...]:
        """The features of each state tensor: ``hidden_size`` for every one, except where a
        cell says otherwise (an LSTM with ``proj_size`` P: ``h`` is P wide, ``c`` H). The
        first, ``h``'s, is the width of the cell's output."""
        return (self.hidden_size,) * self.state_size

    def forward(self, x: Tensor, state: State) -> State:  # pragma: no cover - interface
        """One step: ``x [B, I]`` and the previous state -> the new state."""
        raise NotImplementedError

    def project_inputs(self, x: Tensor) -> Tensor:
        """Work on the whole input ``[T, B, I]`` that does not depend on the state."""
        return x

    def step(self, x_projected: Tensor, state: State) -> State:
        """One step on a slice of :meth:`project_inputs`' output."""
        return self(x_projected, state)

    def step_dropped(self, x_projected: Tensor, state: State, recurrent_mask: Tensor) -> State:
        """:meth:`step` with variational dropout on ``h_(t-1)`` where it meets the recurrent
        weights (Gal & Ghahramani 2016), ``recurrent_mask [B, H]`` already scaled by
        ``1 / keep``. The default masks ``h`` for the whole step, right for a cell whose ``h``
        enters only through its recurrent weights (RNN, LSTM); a cell that also carries
        ``h_(t-1)`` into ``h_t`` (GRU) must keep the carry unmasked, or kept units grow by
        ``1 / keep`` every step, and overrides this."""
        return self.step(x_projected, (state[0] * recurrent_mask, *state[1:]))

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    def __prepare_scriptable__(self) -> RecurrentCell:
        """Called by ``torch.jit.script``, which fails deep inside on rnnkit's code."""
        raise refuse_torchscript(self, hasattr(self, "to_torch"))


def check_sizes(name: str, input_size: object, hidden_size: object) -> None:
    """Refuse an ``input_size`` or ``hidden_size`` that is not a positive int, naming it."""
    for size, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}: {size} must be a positive int, got {value!r}")


def refuse_torchscript(module: nn.Module, convertible: bool) -> TypeError:
    """The error for ``torch.jit.script`` on an rnnkit cell or layer (see the README)."""
    return TypeError(
        f"rnnkit's {type(module).__name__} cannot be compiled by TorchScript (torch.jit.script);"
        " use torch.compile or torch.export"
        + (", or script the torch.nn copy that .to_torch() gives" if convertible else "")
    )


def check_step_input(cell: RecurrentCell, x: Tensor, state: State | None) -> State:
    """The state of a single step (zeros for None), after raising a ``ValueError`` that names
    what arrived when the shapes, dtypes or devices are wrong."""
    name = type(cell).__name__
    if not isinstance(x, Tensor):
        raise ValueError(f"{name}: expected x as a Tensor [batch, {cell.input_size}], got "
                         f"{type(x).__name__}" + array_hint(x, next(cell.parameters(), None)))
    if x.dim() != 2 or x.shape[1] != cell.input_size:
        hint = ""
        if x.dim() == 1 and x.shape[0] == cell.input_size:
            hint = " (one example: add the batch dimension with x.unsqueeze(0))"
        elif x.dim() == 3 and x.shape[2] == cell.input_size:
            hint = (" (a cell takes one time step: call it on x[t] in a loop, or run the whole"
                    " sequence through a layer such as rnnkit.Recurrent)")
        raise ValueError(
            f"{name}: expected x of shape [batch, {cell.input_size}], got {tuple(x.shape)}{hint}"
        )
    weight = next(cell.parameters(), None)
    mixed = weight is not None and x.dtype != weight.dtype and not autocasting(x)
    if weight is not None and (mixed or x.device != weight.device):
        raise ValueError(f"{name}: x is {x.dtype} on {x.device}, the weights {weight.dtype} on "
                         f"{weight.device}; convert one (x.to(...) or cell.to(...))")
    if state is None:
        return cell.initial_state(x.shape[0], device=x.device, dtype=x.dtype)
    if isinstance(state, Tensor):
        raise ValueError(f"{name}: the state is a tuple of {cell.state_size} tensor(s) "
                         f"({'(h, c)' if cell.state_size == 2 else '(h,)'}), not a bare tensor "
                         "as torch.nn cells take; the cell returns such a tuple too")
    if not isinstance(state, tuple | list):
        raise ValueError(f"{name}: expected the state as a tuple of {cell.state_size} tensor(s) "
                         f"({'(h, c)' if cell.state_size == 2 else '(h,)'}) or None for zeros, "
                         f"got {type(state).__name__}")
    if len(state) != cell.state_size:
        raise ValueError(
            f"{name}: expected a state of {cell.state_size} tensor(s), got {len(state)}"
        )
    widths = cell.state_widths()
    for part, width in zip(state, widths, strict=True):
        if not isinstance(part, Tensor) or part.shape != (x.shape[0], width):
            shapes = [[x.shape[0], width] for width in widths]
            wanted = (f"each state tensor of shape {shapes[0]}" if len(set(widths)) == 1
                      else f"state tensors of shapes {', '.join(map(str, shapes))}")
            got = tuple(part.shape) if isinstance(part, Tensor) else type(part).__name__
            raise ValueError(f"{name}: expected {wanted}, got {got}")
        if (part.dtype != x.dtype and not autocasting(part)) or part.device != x.device:
            raise ValueError(f"{name}: the state is {part.dtype} on {part.device}, x {x.dtype} "
                             f"on {x.device}; give them the same dtype and device")
    return state


def autocasting(x: Tensor) -> bool:
    """Whether ``torch.autocast`` is on for ``x``'s device: there, as in ``torch.nn``, a
    floating-point input or state may differ in dtype from the weights (autocast picks the
    dtype each operation computes in)."""
    return x.is_floating_point() and torch.is_autocast_enabled(x.device.type)


def array_hint(x: object, reference: Tensor | None) -> str:
    """How to turn a numpy array, pandas frame or list into the tensor a layer or cell takes."""
    if not (hasattr(x, "__array__") or isinstance(x, list | tuple)):
        return ""
    dtype = reference.dtype if reference is not None else "torch.float32"
    values = ".to_numpy()" if hasattr(x, "to_numpy") else ""
    return f" (convert it: torch.as_tensor(x{values}, dtype={dtype}))"
