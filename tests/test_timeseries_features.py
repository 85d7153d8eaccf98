"""Time series features: gaps reported and filled, calendar grids, causal features, derived
columns."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from rnnkit.timeseries.features import (
    calendar_features,
    derive,
    lags,
    log_returns,
    simple_returns,
)
from rnnkit.timeseries.grid import describe_gaps, infer_frequency, regularize
from rnnkit.timeseries.windows import make_windows

# ---- gaps, features -----------------------------------------------------------------------------

def test_gaps_are_reported_and_filled_only_in_features() -> None:
    index = pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 04:00",
                              "2020-01-01 05:00", "2020-01-01 06:00"])
    frame = pd.DataFrame({"x": [1.0, 2.0, 5.0, 6.0, 7.0], "y": [1.0, 2.0, 5.0, 6.0, 7.0]},
                         index=index)
    report = describe_gaps(frame.index)
    assert (report.frequency, report.missing, report.largest_gap) == ("h", 2,
                                                                       pd.Timedelta(hours=3))
    filled = regularize(frame, "infer", max_fill=1, keep=["y"])
    assert np.isnan(filled["x"].iloc[3]) and filled["x"].iloc[2] == 2.0  # only 1 step filled
    assert filled["y"].isna().sum() == 2  # the target is never filled
    windows = make_windows(filled, "y", ["x"], lookback=1, horizon=1)
    assert not np.isnan(windows.targets).any() and windows.dropped == 3
    between = index.append(pd.DatetimeIndex(["2020-01-01 04:30"])).sort_values()
    assert describe_gaps(between, "h").missing == 2  # was 1: a row off the grid fills no hour
    trading_days = pd.bdate_range("2020-01-01", periods=30).delete([5, 17])  # two holidays
    assert infer_frequency(trading_days) == "B"
    # unsorted dates were 'not on the 'h' grid ... resample the data' (regularize), or
    # '5 rows ... 2 missing of 3' (describe_gaps): wrong, not missing, timestamps
    shuffled = frame.iloc[[2, 0, 1, 3, 4]]
    for call in (lambda: regularize(shuffled, "h"), lambda: describe_gaps(shuffled.index),
                 lambda: infer_frequency(shuffled.index),
                 lambda: regularize(pd.concat([frame, frame.iloc[:1]]).sort_index(), "h")):
        # tidy refuses a repeated date: it was said to drop them ('which does both')
        with pytest.raises(ValueError, match=r"the dates of the table must be ascending, each "
                                             r"once; sort them \(frame.sort_index\(\)\) and "
                                             r"keep one row a date, .*\.tidy, which sorts them "
                                             r"and names the first repeat$"):
            call()
    with pytest.raises(ValueError, match="max_fill must be >= 0"):  # was: no filling
        regularize(frame, "h", max_fill=-1)


@pytest.mark.parametrize("freq", ["MS", "ME", "QS", "QE", "YS", "YE"])
def test_infer_puts_calendar_months_on_their_own_grid(freq: str) -> None:
    index = pd.date_range("2001-01-01", periods=30, freq=freq)
    frame = pd.DataFrame({"x": np.arange(30.0)}, index=index).drop(index=index[[4, 5]])
    filled = regularize(frame, "infer")  # was refused: 'resample the data to '31D' first'
    assert filled.index.equals(index) and filled["x"].isna().sum() == 2
    assert describe_gaps(frame.index).missing == 2


@pytest.mark.parametrize(("dates", "grid"), [
    (["2001-01-02", "2001-02-01", "2001-03-01", "2001-04-02", "2001-05-01"], None),  # Jan 1 off
    (["2001-01-01", "2001-02-01", "2001-03-01", "2001-04-02", "2001-05-01"], "BMS"),
    (["2001-01-01", "2001-04-02", "2001-07-02", "2001-10-01", "2002-01-01"], "3BMS"),
    (["2001-01-31", "2001-02-28", "2001-03-30", "2001-04-30", "2001-05-31"], "BME"),
])
def test_calendar_dates_off_month_starts_and_ends_get_advice_that_works(
        dates: list[str], grid: str | None) -> None:
    """Infer refuses them; the frequency the refusal names (it named BMS for any, though first
    trading days are off that grid whenever a holiday starts the month, and months for
    quarters) puts every row on its grid and adds none."""
    frame = pd.DataFrame({"x": np.arange(5.0)}, index=pd.DatetimeIndex(dates))
    with pytest.raises(ValueError, match="not all on the first .* no grid to infer") as error:
        regularize(frame, "infer")
    named = re.findall(r"\b\d*B(?:MS|ME)\b", str(error.value))  # the grids it suggests
    assert named == ([grid] if grid else [])
    assert "leave" in str(error.value) and "out to use the rows as given" in str(error.value)
    if grid:
        assert regularize(frame, grid).index.equals(frame.index)


def test_features_are_causal_and_correct() -> None:
    prices = pd.Series([100.0, 110.0, 99.0, 99.0])
    assert simple_returns(prices).round(6).tolist()[1:] == [0.1, -0.1, 0.0]
    np.testing.assert_allclose(log_returns(prices).to_numpy()[1:], np.log([1.1, 0.9, 1.0]))
    with pytest.raises(ValueError, match=r"positive prices; found 0.0 at row 1"):
        log_returns(pd.Series([1.0, 0.0]))
    with pytest.raises(ValueError, match="a lag must be a whole number of rows >= 1, not 0"):
        lags(prices.rename("p"), [0])
    calendar = calendar_features(pd.DatetimeIndex(["2021-01-04 18:00"]))  # a Monday, January
    np.testing.assert_allclose(calendar.to_numpy()[0], [-1, 0, 0, 1, 0, 1], atol=1e-12)


def test_derived_columns_are_tendencies_and_logs() -> None:
    frame = pd.DataFrame({"p": [1010.0, 1012.0, 1009.0, 1001.0], "w": [0.0, 3.0, 8.0, 20.0]})
    out = derive(frame, log1p=["w"], changes=["p", "w"], change_lags=[1, 2])
    assert list(out.columns) == ["p", "w_log1p", "p_change_1", "p_change_2", "w_change_1",
                                 "w_change_2"]
    assert out["p_change_2"].tolist()[2:] == [-1.0, -11.0]  # 1009-1010, 1001-1012
    assert out["w_change_1"].tolist()[1:] == [3.0, 5.0, 12.0]  # raw units, before the log
    np.testing.assert_allclose(out["w_log1p"], np.log1p(frame["w"]))
    assert derive(frame).equals(frame)
    with pytest.raises(ValueError, match="no column 'x' to derive from"):
        derive(frame, changes=["x"])
    with pytest.raises(ValueError, match=r"log1p needs values > -1; column 'p' has -5.0 at 0 "
                                         r"\(the least: -5.0\); leave 'p' out of data.log1p"):
        derive(frame.assign(p=-5.0), log1p=["p"])  # was: no row, no fix
    with pytest.raises(ValueError, match="a change lag must be a whole number of rows >= 1"):
        derive(frame, changes=["p"], change_lags=[0])
    # a column listed twice under log1p failed with "KeyError: 'w'" (popped the first time)
    assert derive(frame, log1p=["w", "w"]).columns.tolist() == ["p", "w_log1p"]
    # the user's own column by a derived name was overwritten by the change, in silence
    own = frame.assign(p_change_1=[5.0, 5.0, 5.0, 5.0])
    with pytest.raises(ValueError, match=r"the data has a column 'p_change_1', the name of the "
                                         r"change of 'p' over 1 row\(s\) \(data.changes\); "
                                         "rename that column, or leave 'p' out of data.changes"):
        derive(own, changes=["p"])
    with pytest.raises(ValueError, match="a column 'w_log1p', the name of log"):  # was pandas'
        derive(frame.assign(w_log1p=1.0), log1p=["w"])  # 'cannot insert w_log1p, already exists'
    again = derive(out.assign(w=frame["w"]), log1p=["w"], changes=["p", "w"],
                   change_lags=[1, 2])  # a frame derived before: the same columns
    assert again.columns.tolist() == out.columns.tolist()
