"""Time series baselines, labels and metrics, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_timeseries import daily

from rnnkit.timeseries.baselines import (
    RidgeRegression,
    fit_ridge,
    majority_class,
    moving_average,
    persistence,
    persistence_return,
    persistence_signal,
    ridge_predict,
    seasonal_naive,
)
from rnnkit.timeseries.labels import (
    BUY,
    HOLD,
    MISSING,
    SELL,
    buy_sell_hold,
    compound_returns,
    past_returns,
    window_labels,
    window_returns,
)
from rnnkit.timeseries.metrics import (
    accuracy,
    confusion_matrix,
    directional_accuracy,
    macro_f1,
    mae,
    mase,
    ratio_to_persistence,
    rmse,
    smape,
)
from rnnkit.timeseries.windows import make_windows

# ---- baselines, labels --------------------------------------------------------------------------

def test_naive_baselines_by_hand() -> None:
    windows = make_windows(daily([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), "y", lookback=3, horizon=3)
    assert persistence(windows).tolist() == [[3.0, 3.0, 3.0]]
    assert seasonal_naive(windows, 2).tolist() == [[2.0, 3.0, 2.0]]  # t-1, t, t-1
    assert moving_average(windows, 2).tolist() == [[2.5, 2.5, 2.5]]
    with pytest.raises(ValueError, match="seasonal period 4 must be between 1 and the lookback 3"):
        seasonal_naive(windows, 4)


def test_ridge_recovers_a_line_and_leaves_the_intercept_unpenalised() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 7.0
    exact = RidgeRegression(alpha=0.0).fit(x, y)
    np.testing.assert_allclose(exact.predict(x)[:, 0], y, atol=1e-9)
    flat = RidgeRegression(alpha=1e12).fit(x, y)  # weights -> 0, intercept -> mean(y)
    np.testing.assert_allclose(flat.predict(x)[:, 0], y.mean(), atol=1e-6)
    frame = daily(list(np.sin(np.arange(80) / 3.0)))
    windows = make_windows(frame, "y", lookback=6, horizon=1)
    model = fit_ridge(windows, alpha=1e-8, steps=2, batch_size=7)  # batches sum like one pass
    last_two = windows.inputs[:, -2:, 0]  # [N, 2, 1] -> [N, 2]
    reference = RidgeRegression(1e-8).fit(last_two, windows.targets)
    np.testing.assert_allclose(model.predict(last_two), reference.predict(last_two), atol=1e-6)
    assert mae(windows.targets, ridge_predict(model, windows, steps=2)) < 1e-6  # AR(2) sine
    refitted = RidgeRegression(alpha=0.0).fit(x, y).refit(1e12)  # the kept sums, a new alpha
    np.testing.assert_allclose(refitted.predict(x), flat.predict(x), atol=1e-9)
    twin = np.column_stack([x, x[:, 0]])  # collinear: singular without a penalty
    least_norm = RidgeRegression(alpha=1.0).fit(twin, y).refit(0.0)
    np.testing.assert_allclose(least_norm.predict(twin)[:, 0], y, atol=1e-6)


def test_labels_and_classification_baselines() -> None:
    prices = pd.Series([100.0, 102.0, 101.5, 99.0, 99.0])
    assert buy_sell_hold(prices, 1, up=0.01, down=-0.01).tolist() == [BUY, HOLD, SELL, HOLD,
                                                                       MISSING]
    assert buy_sell_hold(prices, 2).tolist()[:3] == [BUY, SELL, SELL]
    windows = make_windows(daily(prices.tolist()), "y", lookback=2, horizon=1)
    assert window_labels(windows).tolist() == [HOLD, SELL, HOLD]  # same as buy_sell_hold[1:4]
    np.testing.assert_allclose(persistence_return(windows), [0.02, -0.5 / 102, -2.5 / 101.5])
    assert persistence_signal(windows, 0.01, -0.01).tolist() == [BUY, HOLD, SELL]
    assert majority_class(np.array([1, 0, 0, 2, -1]), 2).tolist() == [0, 0]
    with pytest.raises(ValueError, match="must not be above the up threshold"):
        buy_sell_hold(prices, 1, up=-0.02, down=0.01)
    with pytest.raises(ValueError, match=r"thresholds must be finite numbers; got up=nan"):
        buy_sell_hold(prices, 1, up=float("nan"))  # was: no window ever labelled buy


def test_a_price_back_where_it_was_has_no_return_not_a_rounding_sign() -> None:
    # 100 -> 102.74 -> 95.4 -> 100 twice: compounding the three steps' returns gave about
    # -2e-16 (log returns -1.7e-16), so the persistence forecast of a price that had not moved
    # had a direction (a position at threshold 0, a move in directional accuracy) and a label
    # with thresholds at 0 was sell rather than hold
    prices = np.array([100.0, 102.74, 95.4, 100.0, 102.74, 95.4, 100.0])
    for kind, values in (("log_return", np.log(prices[1:] / prices[:-1])),
                         ("return", prices[1:] / prices[:-1] - 1.0)):
        windows = make_windows(daily(values.tolist()), "y", lookback=3, horizon=3)
        assert past_returns(windows, kind).tolist() == [0.0]
        assert window_returns(windows, kind).tolist() == [0.0]
        assert persistence_signal(windows, 0.0, 0.0, kind).tolist() == [HOLD]
        assert window_labels(windows, 0.0, 0.0, kind).tolist() == [HOLD]
    steps = np.array([[1e-9, 1e-9, -1e-9], [0.01, 0.02, -0.03]])  # true moves stay moves
    np.testing.assert_allclose(compound_returns(steps, "log_return"), np.expm1(steps.sum(axis=1)))
    one = np.array([[1e-17], [0.0]])  # one step: nothing compounded, the value as it is
    assert compound_returns(one, "log_return").tolist() == [1e-17, 0.0]


# ---- metrics ------------------------------------------------------------------------------------

def test_forecast_metrics_by_hand() -> None:
    actual, predicted = np.array([2.0, 4.0, 6.0]), np.array([3.0, 4.0, 3.0])
    assert mae(actual, predicted) == pytest.approx(4 / 3)
    assert rmse(actual, predicted) == pytest.approx(np.sqrt(10 / 3))
    assert smape(actual, predicted) == pytest.approx(100 / 3 * (2 / 5 + 0 + 6 / 9))
    training = np.array([1.0, 2.0, 4.0, 3.0, 5.0])  # naive errors 1, 2, 1, 2 -> 1.5; m=2: 3, 1, 1
    assert mase(actual, predicted, training) == pytest.approx((4 / 3) / 1.5)
    assert mase(actual, predicted, training, period=2) == pytest.approx((4 / 3) / (5 / 3))
    origin = np.array([1.0, 5.0, 6.0])  # moves +1, -1, 0 ; predicted +2, -1, -3
    assert directional_accuracy(actual, predicted, origin) == 1.0  # the zero move is left out
    assert directional_accuracy(actual, np.array([1.0, 5.0, 6.0]), origin) == 0.0
    assert ratio_to_persistence(actual, predicted, np.array([2.0, 4.0, 4.0])) == 2.0
    assert ratio_to_persistence(actual, predicted, actual) == np.inf  # persistence exact
    assert np.isnan(ratio_to_persistence(actual, actual, actual))  # both exact: 0 / 0
    with pytest.raises(ValueError, match=r"actual has shape \(3,\) but predicted \(2,\)"):
        mae(actual, predicted[:2])
    with pytest.raises(ValueError, match="no change over 1 step "):
        mase(actual, predicted, np.ones(5))


def test_infinite_values_and_a_misshapen_origin_are_refused_in_one_line() -> None:
    actual, predicted = np.array([2.0, 4.0, 6.0]), np.array([3.0, np.inf, 3.0])
    # sMAPE gave NaN with a RuntimeWarning, MAE inf, for a model that diverged
    for metric in (mae, smape):
        with pytest.raises(ValueError, match="predicted holds 1 infinite value "):
            metric(actual, predicted)
    # an infinite training value read as "the training series has no change"
    with pytest.raises(ValueError, match="training series holds 1 infinite value;"):
        mase(actual, actual, np.array([1.0, np.inf, 2.0, 3.0]))
    # a numpy broadcasting error before
    with pytest.raises(ValueError, match=r"origin has shape \(2,\) for actual \(3,\)"):
        directional_accuracy(actual, actual, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"origin has shape \(3, 1\) for actual \(3,\)"):
        directional_accuracy(actual, actual, actual[:, None])  # broadcast to [3, 3] before
    assert directional_accuracy(actual[:, None], actual[:, None] + 1, actual - 1) == 1.0


def test_a_ridge_alpha_that_is_no_number_is_refused() -> None:
    x = np.array([[0.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, not nan"):
        RidgeRegression(float("nan"))  # NaN weights and predictions before
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0, not nan"):
        RidgeRegression(1.0).fit(x, 2 * x).refit(float("nan"))


def test_classification_metrics_by_hand() -> None:
    actual, predicted = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2])
    assert accuracy(actual, predicted) == pytest.approx(4 / 6)
    assert confusion_matrix(actual, predicted, [0, 1, 2]).tolist() == [[1, 1, 0], [0, 1, 0],
                                                                       [1, 0, 2]]
    # F1: class 0 2*1/(2+2)=0.5, class 1 2*1/(2+1)=2/3, class 2 2*2/(2+3)=0.8
    assert macro_f1(actual, predicted) == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    with pytest.raises(ValueError, match="missing labels"):
        accuracy(np.array([-1, 0]), np.array([0, 0]))
