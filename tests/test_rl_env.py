"""The trading environment (rnnkit.rl.env) and the prices it is given (rnnkit.rl.prices)."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

from rnnkit.rl.env import TradingEnv
from rnnkit.rl.prices import check_prices, price_windows
from rnnkit.timeseries.features import price_features
from rnnkit.timeseries.labels import BUY, HOLD, SELL
from rnnkit.timeseries.scaling import StandardScaler
from rnnkit.trading.backtest import backtest
from rnnkit.trading.returns import next_period_returns
from rnnkit.trading.strategies import class_positions

LOOKBACK = 5


def random_walk(rows: int = 160, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-01", periods=rows, freq="B")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.02, rows))), index=index, name="P")


def env_of(prices: pd.Series, **options: object) -> TradingEnv:
    windows = price_windows(prices, LOOKBACK)
    return TradingEnv(windows, next_period_returns(windows, "log_return"), **options)  # type: ignore[arg-type]


def observations(env: TradingEnv) -> list[np.ndarray]:
    """Every decision's window, holding throughout."""
    seen = [env.reset(seed=0)[0]["window"]]
    truncated = False
    while not truncated:
        observation, _, terminated, truncated, _ = env.step(HOLD)
        assert not terminated  # trading has no natural end; the data has
        seen.append(observation["window"])
    return seen[:-1]  # the last one repeats the final window


def test_the_observation_at_t_holds_nothing_after_t() -> None:
    prices = random_walk()
    env = env_of(prices)
    windows = price_windows(prices, LOOKBACK)
    seen = observations(env)
    assert len(seen) == len(windows)
    rng = np.random.default_rng(1)
    for i in (0, 17, 60, len(seen) - 1):
        day = pd.Timestamp(windows.input_end[i])
        known = price_features(prices.loc[:day]).dropna().to_numpy()[-LOOKBACK:]
        np.testing.assert_allclose(seen[i], known, rtol=1e-5, atol=1e-7)
        changed = prices.copy()  # rewrite the whole future: the observation must not move
        later = changed.index > day
        changed[later] *= np.exp(rng.normal(0, 0.3, later.sum()))
        np.testing.assert_array_equal(observations(env_of(changed))[i], seen[i])


@pytest.mark.parametrize("mode", ["long_flat", "long_short"])
def test_costs_are_charged_on_every_change_of_position(mode: str) -> None:
    flat_prices = pd.Series(50.0, index=random_walk().index, name="P")  # every return is 0
    env = env_of(flat_prices, mode=mode, cost_bps=7.0, slippage_bps=3.0)
    actions = np.random.default_rng(2).integers(0, 3, len(env))
    env.reset(seed=0)
    previous, changes = 0.0, 0
    for action in actions:
        _, reward, _, _, info = env.step(int(action))
        changed = abs(info["position"] - previous)
        assert reward == pytest.approx(-changed * 10 / 10_000, abs=1e-15)
        assert (info["cost"] > 0) == (changed > 0)
        changes += changed > 0
        previous = info["position"]
    assert changes > 10
    assert info["portfolio_value"] < 1.0


def test_an_episode_matches_the_backtest_of_its_positions() -> None:
    windows = price_windows(random_walk(), LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    env = TradingEnv(windows, returns, mode="long_short", cost_bps=5, slippage_bps=5)
    actions = np.random.default_rng(3).integers(0, 3, len(env))
    env.reset(seed=0)
    steps = [env.step(int(action)) for action in actions]
    positions = np.array([info["position"] for *_, info in steps])
    np.testing.assert_array_equal(positions, class_positions(actions, "long_short"))
    expected = backtest(positions, returns, cost_bps=5, slippage_bps=5)
    np.testing.assert_allclose([reward for _, reward, *_ in steps], expected.net_returns)
    assert steps[-1][-1]["portfolio_value"] == pytest.approx(expected.equity[-1], rel=1e-12)
    assert [ended for _, _, ended, _, _ in steps] == [False] * len(env)  # never terminated
    assert [cut for _, _, _, cut, _ in steps] == [False] * (len(env) - 1) + [True]


def test_an_episode_whose_equity_is_wiped_out_terminates_as_the_backtest_ends() -> None:
    # a short over a day the asset gained 150%: the value went to -0.5 and the episode went
    # on (the next fall of 50% "grew" it to -0.75), while the backtest stays at 0
    windows = price_windows(random_walk(), LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    returns[3], returns[4] = 1.5, -0.5
    env = TradingEnv(windows, returns, mode="long_short", cost_bps=5, slippage_bps=5)
    env.reset(seed=0)
    steps = [env.step(SELL) for _ in range(4)]
    _, reward, terminated, truncated, info = steps[-1]
    assert (reward, terminated, truncated, info["portfolio_value"]) == (-1.0, True, False, 0.0)
    assert [ended for _, _, ended, _, _ in steps[:3]] == [False] * 3
    expected = backtest(np.full(len(env), -1.0), returns, cost_bps=5, slippage_bps=5)
    assert expected.equity[3] == info["portfolio_value"]
    np.testing.assert_allclose([r for _, r, *_ in steps], expected.net_returns[:4])
    with pytest.raises(RuntimeError, match=r"wiped out; call reset\(\)"):
        env.step(HOLD)
    env.reset()
    assert env.step(HOLD)[-1]["portfolio_value"] == 1.0


def test_the_last_step_shows_the_window_after_when_given_it() -> None:
    windows = price_windows(random_walk(), LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    scaler = StandardScaler(list(windows.feature_names)).fit(windows.period_rows())
    first, rest = windows.subset(slice(0, 100)), windows.subset(slice(100, None))
    env = TradingEnv(first, returns[:100], scaler=scaler, after=rest)
    env.reset(seed=0)
    for _ in range(len(env)):
        observation, _, terminated, truncated, info = env.step(HOLD)
        assert info["next_known"] and not terminated
    assert truncated
    np.testing.assert_allclose(observation["window"], rest.scaled(scaler).inputs[0], rtol=1e-6)
    blind = TradingEnv(first, returns[:100], scaler=scaler)
    blind.reset(seed=0)
    steps = [blind.step(HOLD) for _ in range(len(blind))]
    assert [info["next_known"] for *_, info in steps] == [True] * 99 + [False]
    with pytest.raises(ValueError, match="the window right after the last one"):
        TradingEnv(first, returns[:100], after=windows.subset(slice(101, None)))


def test_the_environment_passes_gymnasiums_checker() -> None:
    env = env_of(random_walk(80))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env, skip_render_check=True)
    assert env.action_space == gymnasium.spaces.Discrete(3)
    assert env.observation_space["window"].shape == (LOOKBACK, 5)


def test_bad_actions_and_steps_outside_an_episode_are_refused() -> None:
    env = env_of(random_walk(40))
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(BUY)
    env.reset(seed=0)
    for action in (3, -1, 1.0, "buy", True):
        with pytest.raises(ValueError, match=r"outside the action space Discrete\(3\): use 0"):
            env.step(action)
    env.step(np.int64(BUY))  # numpy integers are fine
    while env.step(HOLD)[3] is False:
        pass
    with pytest.raises(RuntimeError, match=r"the episode ended .*call reset\(\)"):
        env.step(SELL)
    env.reset()
    env.step(SELL)


def test_prices_with_gaps_zeros_or_bad_windows_are_refused() -> None:
    prices = random_walk(60)
    gap = prices.copy()
    gap.iloc[30] = np.nan
    with pytest.raises(ValueError, match=r"1 missing price\(s\) \(gaps\), the first on "
                                         r"2020-02-12; fill them"):
        price_windows(gap, LOOKBACK)
    zero = prices.copy()
    zero.iloc[[10, 20]] = [0.0, -1.0]
    with pytest.raises(ValueError, match=r"2 price\(s\) at or below zero, the first 0 on "
                                         r"2020-01-15"):
        check_prices(zero)
    words = prices.astype(object)
    words.iloc[3] = "n/a"  # numpy's 'could not convert string to float' named no date
    with pytest.raises(ValueError, match=r"P holds 'n/a' on 2020-01-0\d, not a price"):
        check_prices(words)
    with pytest.raises(ValueError, match="the dates of P must be ascending, each once"):
        check_prices(prices.iloc[::-1])
    windows = price_windows(prices, LOOKBACK)
    returns = next_period_returns(windows, "log_return")
    skipped = np.r_[0:10, 12:len(windows)]
    with pytest.raises(ValueError, match="skip rows after .*check the prices for gaps"):
        TradingEnv(windows.subset(skipped), returns[skipped])
    with pytest.raises(ValueError, match="give one return per window"):
        TradingEnv(windows, returns[:-1])
    with pytest.raises(ValueError, match="above -100%"):
        TradingEnv(windows, np.where(np.arange(len(returns)) == 3, -1.0, returns))
    with pytest.raises(ValueError, match="mode must be one of long_flat, long_short"):
        TradingEnv(windows, returns, mode="short_only")
    for costs in ({"cost_bps": float("nan")}, {"slippage_bps": float("inf")}):
        with pytest.raises(ValueError, match="must be finite numbers >= 0"):  # NaN rewards
            TradingEnv(windows, returns, **costs)


def test_too_few_prices_for_the_features_and_a_window_say_how_many_are_needed() -> None:
    # 25 prices and a lookback of 5 read "5 rows are too few for lookback 5 + horizon 1;
    # need at least 6": 20 prices go to the 20-day features before the first window
    with pytest.raises(ValueError, match=r"P holds 25 prices; the 20-day features and a "
                                         r"lookback of 5 need at least 26 \(20 \+ 5 \+ 1"):
        price_windows(random_walk(25), 5)
    assert len(price_windows(random_walk(26), 5)) == 1
