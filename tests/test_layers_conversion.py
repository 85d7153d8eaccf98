"""rnnkit.layers: torch.nn's weight names, state dicts and conversion to and from torch.nn."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from test_layers import (
    ATOL,
    DTYPE,
    IN,
    MODES,
    H,
    _seed,  # noqa: F401  (autouse: every test starts from seed 0)
    as_tuple,
    make_reference,
    random_input,
)
from torch import Tensor, nn

import rnnkit


# -- names, state dicts, conversion ---------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_speaks_torch_names(mode: str, bias: bool) -> None:
    torch_class, our_class, extra = MODES[mode]
    options = {"num_layers": 2, "bidirectional": True, "bias": bias}
    ref = make_reference(mode, **options)
    ours = our_class(IN, H, **extra, **options).double()
    ours_sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert list(ours_sd) == list(ref_sd)  # same keys, same order
    assert [v.shape for v in ours_sd.values()] == [v.shape for v in ref_sd.values()]
    for name in ref_sd:
        assert getattr(ours, name) is not None
        assert getattr(ours, name).shape == getattr(ref, name).shape

    ref.load_state_dict(ours.state_dict())  # ours -> torch
    for name, value in ours.state_dict().items():
        assert torch.equal(ref.state_dict()[name], value)
    other = make_reference(mode, **options)
    ours.load_state_dict(other.state_dict())  # torch -> ours
    for name, value in other.state_dict().items():
        assert torch.equal(getattr(ours, name), value)
    # loading really replaced the weights the computation uses
    x = random_input(False)
    torch.testing.assert_close(ours(x)[0], other(x)[0], rtol=0, atol=ATOL)


def test_state_dict_names_inside_a_bigger_model() -> None:
    model = nn.ModuleDict({"encoder": rnnkit.LSTM(IN, H, num_layers=2, bidirectional=True)})
    reference = nn.ModuleDict({"encoder": nn.LSTM(IN, H, num_layers=2, bidirectional=True)})
    assert list(model.state_dict()) == list(reference.state_dict())
    model.load_state_dict(reference.state_dict())
    reference.load_state_dict(model.state_dict())
    ours, theirs = model["encoder"], reference["encoder"]
    assert torch.equal(ours.weight_hh_l1_reverse, theirs.weight_hh_l1_reverse)


def test_unknown_attribute_still_raises_attribute_error() -> None:
    layer = rnnkit.LSTM(IN, H)
    with pytest.raises(AttributeError):
        _ = layer.weight_hh_l3
    assert getattr(layer, "weight_ih_l0_reverse", None) is None


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", list(MODES))
def test_to_torch_round_trip(mode: str, bias: bool) -> None:
    torch_class, our_class, extra = MODES[mode]
    ours = our_class(
        IN, H, num_layers=2, bias=bias, batch_first=True, dropout=0.25, bidirectional=True,
        **extra,
    ).double()
    theirs = ours.to_torch()
    assert type(theirs) is torch_class
    for option in ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional"):
        assert getattr(theirs, option) == getattr(ours, option), option
    assert theirs.bias == bias and theirs.dropout == 0.25
    if mode.startswith("rnn"):
        assert theirs.nonlinearity == extra["nonlinearity"]
    assert theirs.weight_ih_l0.dtype == DTYPE
    x = random_input(batch_first=True)
    ours.eval()
    theirs.eval()
    out, final = ours(x)
    out_ref, final_ref = theirs(x)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=ATOL)
    for a, b in zip(as_tuple(final), as_tuple(final_ref), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)
    back = our_class.from_torch(theirs)
    assert back.dropout == 0.25 and back.batch_first and back.bidirectional
    for (name, a), b in zip(ours.state_dict().items(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_conversion_errors() -> None:
    with pytest.raises(ValueError, match=r"LSTM.from_torch expects a torch.nn.LSTM, got GRU"):
        rnnkit.LSTM.from_torch(nn.GRU(IN, H))
    with pytest.raises(ValueError, match=r"torch.nn.LSTMCell has no proj_size; a layer has"):
        rnnkit.cells.LSTMCell(IN, H, proj_size=2).to_torch()
    with pytest.raises(ValueError, match=r"proj_size must be an int from 0 \(none\) to "
                                         r"hidden_size - 1 = 4, as in torch.nn.LSTM; got 5"):
        rnnkit.LSTM(IN, H, proj_size=H)
    with pytest.raises(ValueError, match=r"proj_size with layer_norm=True is not supported"):
        rnnkit.LSTM(IN, H, proj_size=2, layer_norm=True)
    with pytest.raises(ValueError, match=r"proj_size cannot be overridden"):
        rnnkit.LSTM.from_torch(nn.LSTM(IN, H), proj_size=2)
    with pytest.raises(ValueError, match=r"LSTM.to_torch: torch.nn has no layer-normalised cell"):
        rnnkit.LSTM(IN, H, layer_norm=True, kernel="loop").to_torch()

    class Doubled(rnnkit.GRUCell):  # a subclass may compute something torch.nn.GRU does not
        def step(self, x_projected: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
            return super().step(2 * x_projected, state)

    layer = rnnkit.GRU(IN, H)
    layer.cells[0] = Doubled(IN, H)
    with pytest.raises(ValueError, match=r"no layer-normalised cell or cell of your own \(Doub"):
        layer.to_torch()


def test_torch_nn_habits_work_or_are_named() -> None:
    """Factory device/dtype, missing keys named as torch names them, the dropout warning."""
    layer = rnnkit.GRU(3, 4, num_layers=2, device="cpu", dtype=torch.float64)
    assert layer.weight_ih_l1.dtype == torch.float64
    torch_state = torch.nn.GRU(3, 4, num_layers=2).state_dict()
    partial_state = {k: v for k, v in torch_state.items() if not k.endswith("l1")}
    missing = layer.float().load_state_dict(partial_state, strict=False).missing_keys
    assert missing == ["weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    with pytest.warns(UserWarning, match="with num_layers=1 it does nothing"):
        rnnkit.LSTM(3, 4, dropout=0.5)


def test_a_size_mismatch_on_loading_names_torch_keys() -> None:
    layer = rnnkit.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r"LSTM.load_state_dict: size mismatch: weight_ih_l0 is "
                                           r"\[20, 3\] in the state dict, \[16, 3\] here") as info:
        layer.load_state_dict(torch.nn.LSTM(3, 5, num_layers=2).state_dict())
    assert "cells." not in str(info.value)
    assert "hidden_size=4; build it with the sizes" in str(info.value)
    model = nn.Sequential(rnnkit.GRU(3, 4))  # nested: keys carry the prefix
    with pytest.raises(RuntimeError, match=r"size mismatch: 0.weight_ih_l0 is \[15, 3\] in the "
                                           r"state dict, \[12, 3\] here; 0.weight_hh_l0"):
        model.load_state_dict(nn.Sequential(nn.GRU(3, 5)).state_dict())
    layer.load_state_dict(torch.nn.LSTM(3, 4, num_layers=2).state_dict())  # matching sizes load


def test_a_proj_size_mismatch_on_loading_names_proj_size() -> None:
    """A state dict saved with another proj_size was refused with 'this layer has input_size=3,
    hidden_size=5; build it with the sizes the weights were saved with': the sizes it named
    were the saved ones, and proj_size, the one that differed, went unsaid."""
    saved = nn.LSTM(3, 5, proj_size=2).state_dict()
    with pytest.raises(RuntimeError, match=r"weight_hh_l0 is \[20, 2\] in the state dict, \[20, 5\]"
                                           r" here \(this layer has input_size=3, hidden_size=5,"
                                           r" proj_size=0; the state dict's proj_size=2; build"):
        rnnkit.LSTM(3, 5).load_state_dict(saved)
    with pytest.raises(RuntimeError, match=r"proj_size=3; the state dict's proj_size=2; build"):
        rnnkit.LSTM(3, 5, proj_size=3).load_state_dict(saved)
    with pytest.raises(RuntimeError, match=r"hidden_size=5, proj_size=2; the state dict has no"
                                           r" weight_hr_l0; build"):
        rnnkit.LSTM(3, 5, proj_size=2).load_state_dict(nn.LSTM(3, 5).state_dict())
    rnnkit.LSTM(3, 5, proj_size=2).load_state_dict(saved)  # the same proj_size loads


@pytest.mark.parametrize(
    "options", [{"layer_norm": True}, {"num_layers": 2}, {"bidirectional": True}, {"bias": False},
                {"init": "recurrent"}]
)
def test_from_torch_names_options_the_weights_fix(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=f"LSTM.from_torch: {next(iter(options))} cannot be "
                                         "overridden: they are set by the torch layer's weights"):
        rnnkit.LSTM.from_torch(nn.LSTM(IN, H), **options)


@pytest.mark.parametrize("options", [{"batchfirst": True}, {"hidden_size": 8, "foo": 1}])
def test_from_torch_names_an_unknown_option(options: dict[str, Any]) -> None:
    """A misspelt option ended in Python's TypeError from __init__, naming no option to use."""
    unknown = ", ".join(sorted(options))
    with pytest.raises(ValueError, match=f"GRU.from_torch: unknown option\\(s\\) {unknown}; options"
                                         " that can be given: batch_first, dropout, recurrent_"):
        rnnkit.GRU.from_torch(nn.GRU(IN, H), **options)


def test_from_torch_honours_dtype_and_device() -> None:
    ref = nn.GRU(IN, H)
    ours = rnnkit.GRU.from_torch(ref, dtype=torch.float64, device="cpu", batch_first=True)
    assert ours.weight_ih_l0.dtype == torch.float64 and ours.batch_first
    torch.testing.assert_close(ours.weight_hh_l0, ref.weight_hh_l0.double())
