"""rnnkit.functional: gradcheck on every step function, and equality with torch.nn cells."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from torch.autograd import gradcheck

from rnnkit import functional as RF

B, IN, H = 3, 4, 5
DTYPE = torch.float64


def rand(*shape: int, scale: float = 1.0) -> Tensor:
    return (torch.randn(*shape, dtype=DTYPE) * scale).requires_grad_()


def gain_shift(size: int) -> tuple[Tensor, Tensor]:
    """A non-trivial layer-norm (gain, shift), so gradcheck covers both."""
    return rand(size, scale=0.3).detach().add_(1.0).requires_grad_(), rand(size, scale=0.3)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def check(fn: Callable[..., object], *inputs: Tensor | None) -> None:
    """gradcheck over every tensor argument; None arguments (no bias) are passed through."""
    tensors = [t for t in inputs if t is not None]
    slots = [i for i, t in enumerate(inputs) if t is not None]

    def wrapped(*args: Tensor) -> object:
        full = list(inputs)
        for slot, arg in zip(slots, args, strict=True):
            full[slot] = arg
        return fn(*full)

    assert gradcheck(wrapped, tuple(tensors), eps=1e-6, atol=1e-7)


# -- gradcheck ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_gradcheck(bias: bool, nonlinearity: str) -> None:
    b_ih, b_hh = (rand(H), rand(H)) if bias else (None, None)
    check(
        lambda x, h, w_ih, w_hh, bi, bh: RF.rnn_step(x, h, w_ih, w_hh, bi, bh, nonlinearity),
        rand(B, IN), rand(B, H), rand(H, IN), rand(H, H), b_ih, b_hh,
    )


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_projected_gradcheck(bias: bool, nonlinearity: str) -> None:
    check(
        lambda xp, h, w_hh, bh: RF.rnn_step_projected(xp, h, w_hh, bh, nonlinearity),
        rand(B, H), rand(B, H), rand(H, H), rand(H) if bias else None,
    )


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_step_gradcheck(bias: bool) -> None:
    b_ih, b_hh = (rand(4 * H), rand(4 * H)) if bias else (None, None)
    check(
        RF.lstm_step,
        rand(B, IN), rand(B, H), rand(B, H), rand(4 * H, IN), rand(4 * H, H), b_ih, b_hh,
    )


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_step_projected_gradcheck(bias: bool) -> None:
    check(
        RF.lstm_step_projected,
        rand(B, 4 * H), rand(B, H), rand(B, H), rand(4 * H, H), rand(4 * H) if bias else None,
    )


def test_lstm_gates_to_state_gradcheck() -> None:
    check(RF.lstm_gates_to_state, rand(B, 4 * H), rand(B, H))


@pytest.mark.parametrize("bias", [True, False])
def test_gru_step_gradcheck(bias: bool) -> None:
    b_ih, b_hh = (rand(3 * H), rand(3 * H)) if bias else (None, None)
    check(RF.gru_step, rand(B, IN), rand(B, H), rand(3 * H, IN), rand(3 * H, H), b_ih, b_hh)


@pytest.mark.parametrize("bias", [True, False])
def test_gru_step_projected_gradcheck(bias: bool) -> None:
    check(
        RF.gru_step_projected,
        rand(B, 3 * H), rand(B, H), rand(3 * H, H), rand(3 * H) if bias else None,
    )


def test_gru_gates_to_state_gradcheck() -> None:
    check(RF.gru_gates_to_state, rand(B, 3 * H), rand(B, 3 * H), rand(B, H))


def test_layer_norm_lstm_step_gradcheck() -> None:
    def fn(x, h, c, w_ih, w_hh, g_ih, s_ih, g_hh, s_hh, g_c, s_c):  # noqa: ANN001, ANN202
        return RF.layer_norm_lstm_step(x, h, c, w_ih, w_hh, (g_ih, s_ih), (g_hh, s_hh), (g_c, s_c))

    check(
        fn, rand(B, IN), rand(B, H), rand(B, H), rand(4 * H, IN), rand(4 * H, H),
        *gain_shift(4 * H), *gain_shift(4 * H), *gain_shift(H),
    )


def test_layer_norm_lstm_step_projected_gradcheck() -> None:
    def fn(xp, h, c, w_hh, g_hh, s_hh, g_c, s_c):  # noqa: ANN001, ANN202
        return RF.layer_norm_lstm_step_projected(xp, h, c, w_hh, (g_hh, s_hh), (g_c, s_c))

    check(fn, rand(B, 4 * H), rand(B, H), rand(B, H), rand(4 * H, H),
          *gain_shift(4 * H), *gain_shift(H))


def test_layer_norm_gru_step_gradcheck() -> None:
    def fn(x, h, w_ih, w_hh, g_ih, s_ih, g_hh, s_hh):  # noqa: ANN001, ANN202
        return RF.layer_norm_gru_step(x, h, w_ih, w_hh, (g_ih, s_ih), (g_hh, s_hh))

    check(fn, rand(B, IN), rand(B, H), rand(3 * H, IN), rand(3 * H, H),
          *gain_shift(3 * H), *gain_shift(3 * H))


def test_layer_norm_gru_step_projected_gradcheck() -> None:
    def fn(xp, h, w_hh, g_hh, s_hh):  # noqa: ANN001, ANN202
        return RF.layer_norm_gru_step_projected(xp, h, w_hh, (g_hh, s_hh))

    check(fn, rand(B, 3 * H), rand(B, H), rand(3 * H, H), *gain_shift(3 * H))


def test_layer_norm_and_linear_gradcheck() -> None:
    check(lambda x, g, s: RF.layer_norm(x, (g, s)), rand(B, 2 * H), *gain_shift(2 * H))
    check(RF.linear, rand(B, IN), rand(H, IN), rand(H))
    check(RF.linear, rand(B, IN), rand(H, IN), None)


def test_every_function_is_gradchecked() -> None:
    """A new function in rnnkit.functional must get a gradcheck test here."""
    defined = {
        name
        for name, obj in inspect.getmembers(RF, inspect.isfunction)
        if obj.__module__ == RF.__name__
    }
    covered = {
        "linear", "layer_norm", "rnn_step", "rnn_step_projected", "lstm_step",
        "lstm_step_projected", "lstm_gates_to_state", "gru_step", "gru_step_projected",
        "gru_gates_to_state", "layer_norm_lstm_step", "layer_norm_lstm_step_projected",
        "layer_norm_gru_step", "layer_norm_gru_step_projected",
    }
    assert defined == covered


# -- equality with torch.nn cells ------------------------------------------------------------
def weights(module: nn.Module) -> tuple[Tensor | None, ...]:
    return module.weight_ih, module.weight_hh, module.bias_ih, module.bias_hh


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_matches_torch(bias: bool, nonlinearity: str) -> None:
    cell = nn.RNNCell(IN, H, bias=bias, nonlinearity=nonlinearity).double()
    x, h = torch.randn(B, IN, dtype=DTYPE), torch.randn(B, H, dtype=DTYPE)
    ours = RF.rnn_step(x, h, *weights(cell), nonlinearity=nonlinearity)
    torch.testing.assert_close(ours, cell(x, h), rtol=0, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_step_matches_torch(bias: bool) -> None:
    cell = nn.LSTMCell(IN, H, bias=bias).double()
    x, h, c = (torch.randn(B, n, dtype=DTYPE) for n in (IN, H, H))
    h_ours, c_ours = RF.lstm_step(x, h, c, *weights(cell))
    h_ref, c_ref = cell(x, (h, c))
    torch.testing.assert_close(h_ours, h_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(c_ours, c_ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_gru_step_matches_torch(bias: bool) -> None:
    cell = nn.GRUCell(IN, H, bias=bias).double()
    x, h = torch.randn(B, IN, dtype=DTYPE), torch.randn(B, H, dtype=DTYPE)
    torch.testing.assert_close(RF.gru_step(x, h, *weights(cell)), cell(x, h), rtol=0, atol=1e-12)


def test_projected_steps_equal_unprojected() -> None:
    x, h, c = (torch.randn(B, n, dtype=DTYPE) for n in (IN, H, H))
    for gates in (1, 3, 4):
        w_ih, w_hh = torch.randn(gates * H, IN, dtype=DTYPE), torch.randn(gates * H, H, dtype=DTYPE)
        b_ih, b_hh = torch.randn(gates * H, dtype=DTYPE), torch.randn(gates * H, dtype=DTYPE)
        x_proj = RF.linear(x, w_ih, b_ih)
        if gates == 1:
            full = RF.rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, "relu")
            split = RF.rnn_step_projected(x_proj, h, w_hh, b_hh, "relu")
        elif gates == 3:
            full = RF.gru_step(x, h, w_ih, w_hh, b_ih, b_hh)
            split = RF.gru_step_projected(x_proj, h, w_hh, b_hh)
        else:
            full = torch.cat(RF.lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh))
            split = torch.cat(RF.lstm_step_projected(x_proj, h, c, w_hh, b_hh))
        torch.testing.assert_close(full, split, rtol=0, atol=1e-13)


def test_layer_norm_lstm_step_matches_its_equations() -> None:
    """Independent reference: gates = LN_ih(W_ih x) + LN_hh(W_hh h); h = o * tanh(LN_c(c))."""
    ln_ih, ln_hh, ln_c = nn.LayerNorm(4 * H), nn.LayerNorm(4 * H), nn.LayerNorm(H)
    for norm in (ln_ih, ln_hh, ln_c):
        norm.double()
        with torch.no_grad():
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    x, h, c = (torch.randn(B, n, dtype=DTYPE) for n in (IN, H, H))
    w_ih, w_hh = torch.randn(4 * H, IN, dtype=DTYPE), torch.randn(4 * H, H, dtype=DTYPE)
    gates = ln_ih(x @ w_ih.T) + ln_hh(h @ w_hh.T)
    i, f, o = (gates[:, k * H:(k + 1) * H].sigmoid() for k in (0, 1, 3))
    g = gates[:, 2 * H:3 * H].tanh()
    c_ref = f * c + i * g
    h_ref = o * ln_c(c_ref).tanh()
    pairs = [(n.weight, n.bias) for n in (ln_ih, ln_hh, ln_c)]
    h_ours, c_ours = RF.layer_norm_lstm_step(x, h, c, w_ih, w_hh, *pairs)
    torch.testing.assert_close(c_ours, c_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(h_ours, h_ref, rtol=0, atol=1e-12)


def test_layer_norm_gru_step_matches_its_equations() -> None:
    ln_ih, ln_hh = nn.LayerNorm(3 * H).double(), nn.LayerNorm(3 * H).double()
    with torch.no_grad():
        for norm in (ln_ih, ln_hh):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    x, h = torch.randn(B, IN, dtype=DTYPE), torch.randn(B, H, dtype=DTYPE)
    w_ih, w_hh = torch.randn(3 * H, IN, dtype=DTYPE), torch.randn(3 * H, H, dtype=DTYPE)
    xp, hp = ln_ih(x @ w_ih.T), ln_hh(h @ w_hh.T)
    r = torch.sigmoid(xp[:, :H] + hp[:, :H])
    z = torch.sigmoid(xp[:, H:2 * H] + hp[:, H:2 * H])
    n = torch.tanh(xp[:, 2 * H:] + r * hp[:, 2 * H:])
    h_ref = (1 - z) * n + z * h
    ours = RF.layer_norm_gru_step(
        x, h, w_ih, w_hh, (ln_ih.weight, ln_ih.bias), (ln_hh.weight, ln_hh.bias)
    )
    torch.testing.assert_close(ours, h_ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["Tanh", "sigmoid", ""])
def test_rnn_step_refuses_an_unknown_nonlinearity(nonlinearity: str) -> None:
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    with pytest.raises(ValueError, match=f"'tanh' or 'relu', got '{nonlinearity}'"):
        RF.rnn_step(x, h, torch.randn(4, 3), torch.randn(4, 4), nonlinearity=nonlinearity)
