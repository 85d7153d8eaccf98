"""A forecaster's forecast: intervals, the dates it forecasts, --as-of, missing values and
frames it refuses, and forecast.png's title and legend."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_forecaster import model_for, series_frame

from rnnkit.config import ModelConfig
from rnnkit.models.forecaster import Forecaster
from rnnkit.pipelines.forecast import _rows_up_to
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.timeseries.windows import make_windows


def test_as_of_keeps_rows_to_the_end_of_a_day_month_or_year() -> None:
    frame = series_frame(400)  # hourly from 2020-01-01 00:00 to 2020-01-17 15:00
    assert [len(_rows_up_to(frame, as_of, 24)) for as_of in ("2020-01-05", "2020-01", "2020")
            ] == [5 * 24, 400, 400]
    # too few rows for the model's window: said '24 rows are too few', naming no flag
    with pytest.raises(ValueError, match="--as-of 2020-01-01: 24 rows at or before it, "
                       "and the model reads the last 48; give 2020-01-02 or later"):
        _rows_up_to(frame, "2020-01-01", 48)


def test_an_as_of_after_the_data_s_last_row_is_refused_not_read_as_the_last_row() -> None:
    # a forecast --as-of 2020-05-05 of data ending 2020-01-17 15:00 forecast 2020-01-17 16:00
    # onwards, dated before the as-of, without a word
    frame = series_frame(400)  # hourly from 2020-01-01 00:00 to 2020-01-17 15:00
    for as_of in ("2020-05-05", "2020-01-18", "2021", "2020-01-17 16:00"):
        with pytest.raises(ValueError, match=f"--as-of {as_of}: the data's last row is "
                           "2020-01-17 15:00:00, and the row after it, 2020-01-17 16:00:00, "
                           "is missing; give 2020-01-17 or earlier [(]a forecast starts "
                           "after the last row, not after the date asked for[)], or leave "
                           "--as-of out"):
            _rows_up_to(frame, as_of, 24)
    # a period the data ends in keeps its rows, as before
    assert len(_rows_up_to(frame, "2020-01-17", 24)) == len(_rows_up_to(frame, "2020", 24)) == 400
    days = pd.DataFrame({"y": np.arange(10.0)},  # trading days to Friday 2020-01-10
                        index=pd.bdate_range("2019-12-30", periods=10, name="date"))
    assert len(_rows_up_to(days, "2020-01-12", 5)) == 10  # the weekend after: no row missing
    with pytest.raises(ValueError, match="the row after it, 2020-01-13 00:00:00, is missing"):
        _rows_up_to(days, "2020-01-13", 5)
    uneven = days.iloc[[0, 1, 3, 4, 7, 8, 9]].set_axis(  # no grid: the next row unknown
        pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-09",
                          "2020-01-10", "2020-01-20", "2020-01-21"], name="date"))
    assert len(_rows_up_to(uneven, "2020-01-21", 5)) == 7
    with pytest.raises(ValueError, match="--as-of 2020-01-22: the data's last row is "
                       "2020-01-21 00:00:00; give 2020-01-21 or earlier"):
        _rows_up_to(uneven, "2020-01-22", 5)


def test_forecast_gives_the_interval_the_model_was_scored_with() -> None:
    frame = series_frame(200)
    model = model_for(frame, "gaussian", scoring={"interval": 0.5})
    table = model.forecast(frame)
    window = model.windows_of(frame).subset(np.array([len(frame) - 24 - 6]))  # a known one
    assert set(table.columns) == {"step", "mean", "lower", "upper", "level"}
    assert (table["level"] == 0.5).all()
    wide = model.forecast(frame, interval=0.9)
    assert ((wide["upper"] - wide["lower"]) > (table["upper"] - table["lower"])).all()
    assert model.predict_windows(window, interval=0.5)["mean"].shape == (1, 6)
    quantile = model_for(frame, "quantile", quantiles=(0.1, 0.5, 0.9))
    assert quantile.forecast(frame)["level"].tolist() == pytest.approx([0.8] * 6)  # outer ones


def test_a_recursive_model_on_trading_days_forecasts_business_days() -> None:
    from rnnkit.models.recursive import times_after

    days = pd.bdate_range(end="2012-11-16", periods=120, name="date")  # weekdays, to a Friday
    assert list(times_after(days, 3).strftime("%a")) == ["Mon", "Tue", "Wed"]  # after a Fri
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": 10 + rng.standard_normal(120).cumsum(),
                          "x": rng.standard_normal(120)}, index=days)
    model = model_for(frame, lookback=10, calendar=("day_of_week",), strategy="recursive")
    table = model.forecast(frame)  # was refused: "the frame's last rows must be evenly spaced"
    assert table.index[0] == pd.Timestamp("2012-11-19") and table["mean"].notna().all()


@pytest.mark.parametrize("freq", ["MS", "ME", "QS"])
def test_a_recursive_model_on_calendar_months_forecasts_the_next_months(freq: str) -> None:
    months = pd.date_range("2001-01-01", periods=60, freq=freq, name="date")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"y": 10 + rng.standard_normal(60).cumsum(),
                          "x": rng.standard_normal(60)}, index=months)
    model = model_for(frame, lookback=10, calendar=("month",), strategy="recursive")
    table = model.forecast(frame.iloc[:-6])  # was refused: "... must be evenly spaced in time"
    assert table.index.equals(months[-6:])
    window = model.windows_of(frame)  # the same forecast from the window ending there
    np.testing.assert_allclose(table["mean"], model.predict_windows(window)["mean"][-1],
                               rtol=1e-5)


def test_forecast_follows_the_weights_dtype_and_needs_dates() -> None:
    import copy

    frame = series_frame(200)
    model = model_for(frame)
    wide = copy.deepcopy(model).double()
    assert np.allclose(wide.forecast(frame)["mean"], model.forecast(frame)["mean"], atol=1e-5)
    with pytest.raises(ValueError, match="the frame needs a DatetimeIndex, not RangeIndex"):
        model.forecast(frame.reset_index(drop=True))  # no invented 1970 timestamps


def test_a_gaussian_interval_that_is_no_probability_is_refused() -> None:
    """95 (meaning 95%) raised statistics' 'p must be in the range 0.0 < p < 1.0'; 0 gave a
    zero-width interval labelled level 0."""
    frame = series_frame(200)
    model = model_for(frame, loss="gaussian")
    assert model.forecast(frame, interval=0.5)["level"].eq(0.5).all()
    for interval in (95, 0, 1.0, float("nan")):
        with pytest.raises(ValueError, match=r"interval must be a probability between 0 and 1 "
                                             r"\(both excluded\), e\.g\. 0\.9 for a 90% "):
            model.forecast(frame, interval=interval)


def test_a_median_only_quantile_model_gives_no_interval() -> None:
    """quantiles=0.5 gave lower = upper = the median, reported as a level-0 interval."""
    frame = series_frame(200)
    model = model_for(frame, loss="quantile", quantiles="0.5")
    table = model.forecast(frame)
    assert list(table.columns) == ["step", "mean"]
    out = model.predict_windows(model.windows_of(frame))
    assert "lower" not in out and np.allclose(out["quantiles"][..., 0], out["mean"])


def test_a_scaler_fitted_on_the_features_in_another_order_is_refused() -> None:
    """It was taken: each column then scaled by another's mean and std, silently."""
    frame = series_frame(200)
    scaler = StandardScaler(["x", "y"]).fit(frame[["x", "y"]].to_numpy())
    with pytest.raises(ValueError, match=r"the scaler was fitted on the features \['x', 'y'\], "
                                         r"the model reads \['y', 'x'\]; fit it on"):
        Forecaster(ModelConfig(cell="gru", hidden_size=4), ["y", "x"], "y", 8, 2, scaler)


def test_a_forecast_of_dates_out_of_order_is_refused() -> None:
    """A newest-first frame was read backwards: its oldest rows, forecast into the past."""
    frame = series_frame(200)
    model = model_for(frame)
    for shuffled in (frame.iloc[::-1], pd.concat([frame, frame.iloc[-3:]])):
        with pytest.raises(ValueError, match=r"the dates of the frame must be ascending, each "
                                             r"once \(its last rows are read as the latest\); "
                                             r"sort them \(frame.sort_index\(\)\)"):
            model.forecast(shuffled)


@pytest.mark.parametrize(("points", "part"), [
    (5, "the last 5 of 21 test windows (2020-01-02 06:00:00 to 2020-01-02 10:00:00)"),
    (504, "test (2020-01-01 14:00:00 to 2020-01-02 10:00:00)")])
def test_forecast_plot_title_says_which_windows_it_shows(
        points: int, part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """forecast.png draws the last forecast.plot_points test windows and was titled '(test)'
    whatever share of the test they were (results.json scores them all)."""
    import rnnkit.viz.timeseries
    from rnnkit.pipelines.forecaster import plot

    test = make_windows(series_frame(35), "y", ["y", "x"], lookback=12, horizon=3, stride=1)
    out = {"mean": test.targets + 1, "baseline_persistence": test.targets - 1}
    seen: dict[str, Any] = {}
    monkeypatch.setattr(rnnkit.viz.timeseries, "plot_forecast",
                        lambda actual, forecasts, path, **options: seen.update(options))
    plot(test, out, tmp_path / "forecast.png", points, "degC", {})
    assert seen["title"] == f"y, 3 steps ahead, {part}" and seen["level"] is None
    from rnnkit.trading.returns import span_text  # hourly from a midnight: both timed

    assert span_text("2014-12-10", "2014-12-31 23:00") == ("2014-12-10 00:00:00 to "
                                                            "2014-12-31 23:00:00")
    assert span_text("2014-12-10", "2014-12-31") == "2014-12-10 to 2014-12-31"
    assert len(seen["times"]) == min(points, len(test))
    assert seen["times"][-1] == test.target_times[-1, -1]


def test_forecast_plot_names_its_interval_s_level(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The band's legend read 'model interval', whatever its level (a quantile model's outer
    quantiles 0.1 and 0.9 give 80%, not the 90% a Gaussian one defaults to)."""
    import rnnkit.viz.timeseries
    from rnnkit.pipelines.forecaster import plot

    test = make_windows(series_frame(35), "y", ["y", "x"], lookback=12, horizon=3, stride=1)
    out = {"mean": test.targets, "baseline_persistence": test.targets - 1,
           "lower": test.targets - 2, "upper": test.targets + 2}
    kept: list[Any] = []
    monkeypatch.setattr(rnnkit.viz.timeseries, "save_figure",
                        lambda figure, path, dpi: kept.append(figure))
    plot(test, out, tmp_path / "forecast.png", 504, "degC", {"interval": {"level": 0.8}})
    legend = [text.get_text() for text in kept[0].axes[0].get_legend().get_texts()]
    assert legend == ["actual", "model", "model 80% interval", "persistence"]


def test_missing_values_in_the_last_window_are_named() -> None:
    """Forecaster.forecast said only 'the last lookback rows hold missing values'."""
    frame = series_frame(100)
    frame.iloc[-5, frame.columns.get_loc("x")] = np.nan
    frame.iloc[-2, frame.columns.get_loc("x")] = np.nan
    model = model_for(series_frame(100))
    with pytest.raises(ValueError, match=re.escape(
            "the last 24 rows (the model's lookback) hold 2 missing values, in 'x', the first "
            "at 2020-01-04 23:00:00; fill them, or forecast from an earlier date")):
        model.forecast(frame)
