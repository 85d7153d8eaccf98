"""``RNN``, ``LSTM`` and ``GRU``: drop-in layers with ``torch.nn``'s signature and names."""

from __future__ import annotations

from functools import partial
from typing import ClassVar, TypeVar

import torch
from torch import nn

from rnnkit.cells import (
    GRUCell,
    LayerNormGRUCell,
    LayerNormLSTMCell,
    LSTMCell,
    RecurrentCell,
    RNNCell,
)
from rnnkit.cells.torch_compat import copy_weights
from rnnkit.layers.fused import is_plain_cell
from rnnkit.layers.recurrent import CellFactory, Recurrent
from rnnkit.layers.validate import check_flag

LayerT = TypeVar("LayerT", bound="_StandardLayer")
# options of from_torch that would change the weights' layout or what they compute
_FIXED_BY_THE_WEIGHTS = frozenset(
    {"num_layers", "bias", "bidirectional", "layer_norm", "nonlinearity", "init", "proj_size"}
)
# options of from_torch that the weights leave open
_OPEN_OPTIONS = ("batch_first", "dropout", "recurrent_dropout", "kernel", "device", "dtype")


class _StandardLayer(Recurrent):
    torch_class: ClassVar[type[nn.RNNBase]]

    def _extra_options(self) -> dict[str, object]:
        return {}

    @classmethod
    def from_torch(cls: type[LayerT], module: nn.RNNBase, **options: object) -> LayerT:
        """Build this layer with the options and a copy of the weights of a ``torch.nn`` one.

        ``options`` may set what the weights leave open: ``batch_first``, ``dropout``,
        ``recurrent_dropout``, ``kernel``, ``device`` and ``dtype`` (applied after the copy).
        """
        if not isinstance(module, cls.torch_class):  # ParametrizedLSTM (weight_norm) too
            raise ValueError(
                f"{cls.__name__}.from_torch expects a torch.nn.{cls.torch_class.__name__},"
                f" got {type(module).__name__}"
            )
        fixed = sorted(set(options) & _FIXED_BY_THE_WEIGHTS)
        if fixed:
            raise ValueError(
                f"{cls.__name__}.from_torch: {', '.join(fixed)} cannot be overridden: they are"
                " set by the torch layer's weights, which are copied (build the torch layer with"
                f" them, or build {cls.__name__}(...) directly); options that can be given:"
                f" {', '.join(_OPEN_OPTIONS)}"
            )
        unknown = sorted(set(options) - set(_OPEN_OPTIONS))
        if unknown:
            raise ValueError(
                f"{cls.__name__}.from_torch: unknown option(s) {', '.join(unknown)}; options"
                f" that can be given: {', '.join(_OPEN_OPTIONS)}"
            )
        device, dtype = options.pop("device", None), options.pop("dtype", None)
        kwargs: dict[str, object] = {
            "num_layers": module.num_layers,
            "bias": module.bias,
            "batch_first": module.batch_first,
            "dropout": module.dropout,
            "bidirectional": module.bidirectional,
            **options,
        }
        if isinstance(module, nn.RNN):
            kwargs["nonlinearity"] = module.nonlinearity
        if module.proj_size:
            kwargs["proj_size"] = module.proj_size
        ours = cls(module.input_size, module.hidden_size, **kwargs)  # type: ignore[arg-type]
        reference = module.all_weights[0][0]
        ours.to(device=reference.device, dtype=reference.dtype)
        copy_weights(module, ours, tuple(module._flat_weights_names))
        if device is not None or dtype is not None:  # after the copy, which takes the source's
            ours.to(device=device, dtype=dtype)  # type: ignore[call-overload]
        return ours

    def to_torch(self) -> nn.RNNBase:
        """A ``torch.nn`` layer holding a copy of these weights (plain cells only)."""
        other = next((c for c in self.cells if not is_plain_cell(c)), None)
        if other is not None:
            raise ValueError(
                f"{type(self).__name__}.to_torch: torch.nn has no layer-normalised cell or cell"
                f" of your own ({type(other).__name__})"
            )
        theirs = self.torch_class(
            self.input_size,  # type: ignore[arg-type]
            self.hidden_size,
            num_layers=self.num_layers,
            bias=bool(getattr(self.cell(0), "bias", True)),
            batch_first=self.batch_first,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            **self._extra_options(),  # type: ignore[arg-type]
        )
        theirs.to(device=self.flat_weights()[0].device, dtype=self.flat_weights()[0].dtype)
        copy_weights(self, theirs, tuple(theirs._flat_weights_names))
        return theirs


def _cell_factory(
    name: str, cell: type[RecurrentCell], layer_norm_cell: type[RecurrentCell], bias: bool,
    layer_norm: bool,
) -> CellFactory:
    bias = check_flag(name, "bias", bias)
    if check_flag(name, "layer_norm", layer_norm):
        if not bias:
            raise ValueError(
                "layer_norm=True needs bias=True: the normalisations' shifts are the biases"
            )
        return layer_norm_cell
    return partial(cell, bias=bias)  # type: ignore[call-arg]


class RNN(_StandardLayer):
    """Elman RNN layer (tanh or relu), ``torch.nn.RNN``'s signature plus rnnkit's options.

    See :class:`Recurrent` for the arguments, shapes and the fused/loop choice.

    Example:
        >>> import torch
        >>> layer = RNN(10, 20, num_layers=2)
        >>> output, h_n = layer(torch.randn(5, 3, 10))
        >>> output.shape, h_n.shape, layer.kernel
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]), 'fused')
    """

    torch_class = nn.RNN

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        recurrent_dropout: float = 0.0,
        init: str = "torch",
        kernel: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.nonlinearity = nonlinearity
        bias = check_flag(type(self).__name__, "bias", bias)
        factory = partial(RNNCell, bias=bias, nonlinearity=nonlinearity)
        super().__init__(
            factory, input_size, hidden_size, num_layers, bidirectional, dropout,
            recurrent_dropout, batch_first, init, kernel, device, dtype,
        )

    def _extra_options(self) -> dict[str, object]:
        return {"nonlinearity": self.nonlinearity}


class LSTM(_StandardLayer):
    """LSTM layer, ``torch.nn.LSTM``'s signature plus ``layer_norm`` and ``recurrent_dropout``.

    ``proj_size`` P > 0 projects each ``h_t`` to P features (see :class:`~rnnkit.cells.LSTMCell`):
    the output is ``[T, B, D*P]``, ``h_n`` ``[L*D, B, P]`` and ``c_n`` ``[L*D, B, H]``, as in
    ``torch.nn.LSTM``.

    Example:
        >>> import torch
        >>> layer = LSTM(10, 20, bidirectional=True, batch_first=True)
        >>> output, (h_n, c_n) = layer(torch.randn(3, 5, 10), lengths=torch.tensor([5, 3, 1]))
        >>> output.shape, h_n.shape
        (torch.Size([3, 5, 40]), torch.Size([2, 3, 20]))
        >>> output, (h_n, c_n) = LSTM(10, 20, proj_size=4)(torch.randn(5, 3, 10))
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([5, 3, 4]), torch.Size([1, 3, 4]), torch.Size([1, 3, 20]))
    """

    torch_class = nn.LSTM

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        init: str = "torch",
        kernel: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory = _cell_factory(type(self).__name__, LSTMCell, LayerNormLSTMCell, bias,
                                layer_norm)
        if proj_size != 0:  # (LSTMCell refuses a bad value)
            if layer_norm:
                raise ValueError("LSTM: proj_size with layer_norm=True is not supported: the"
                                 " layer-normalised cell has no projection")
            factory = partial(LSTMCell, bias=bool(bias), proj_size=proj_size)
        super().__init__(
            factory, input_size, hidden_size, num_layers, bidirectional, dropout,
            recurrent_dropout, batch_first, init, kernel, device, dtype,
        )

    def _extra_options(self) -> dict[str, object]:
        return {"proj_size": self.proj_size} if self.proj_size else {}


class GRU(_StandardLayer):
    """GRU layer, ``torch.nn.GRU``'s signature plus ``layer_norm`` and ``recurrent_dropout``.

    Example:
        >>> import torch
        >>> layer = GRU(10, 20, num_layers=2, layer_norm=True)
        >>> output, h_n = layer(torch.randn(5, 3, 10))
        >>> output.shape, layer.kernel
        (torch.Size([5, 3, 20]), 'loop')
    """

    torch_class = nn.GRU

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        layer_norm: bool = False,
        recurrent_dropout: float = 0.0,
        init: str = "torch",
        kernel: str = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory = _cell_factory(type(self).__name__, GRUCell, LayerNormGRUCell, bias,
                                layer_norm)
        super().__init__(
            factory, input_size, hidden_size, num_layers, bidirectional, dropout,
            recurrent_dropout, batch_first, init, kernel, device, dtype,
        )
