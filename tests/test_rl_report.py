"""The DQN seed tables (rnnkit.pipelines.dqn_report) and benchmarks/dqn_trading.py run on tiny
agents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnkit.models.dqn_agent import DQNAgent


def run_dqn_benchmark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      *overrides: str) -> dict[str, object]:
    """benchmarks/dqn_trading.py on IBM, one seed, a short period and tiny agents; its
    result file."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "dqn_trading.py"
    spec = importlib.util.spec_from_file_location("dqn_trading_benchmark", path)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    settings = ["data.train_end=2004-12-31", "data.test_end=2005-03-31", "agent.episodes=1",
                "agent.learning_starts=200", "model.hidden_size=8", *overrides]
    monkeypatch.setattr("sys.argv", ["dqn_trading.py", "--symbols", "IBM", "--seeds", "0",
                                     "--out", str(tmp_path / "dqn_trading.json"),
                                     *[arg for s in settings for arg in ("--set", s)]])
    assert benchmark.main() == 0
    return dict(json.loads((tmp_path / "dqn_trading.json").read_text()))


@pytest.mark.filterwarnings(r"ignore:seed \d+. the agent:UserWarning")  # tiny agents
def test_the_dqn_benchmark_survives_an_agent_never_in_the_market(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an agent that never left flat has no Sharpe ratio: the benchmark's headline mean failed
    # with KeyError 'sharpe' after every run had trained, and wrote nothing
    monkeypatch.setattr(DQNAgent, "greedy_actions",
                        lambda self, windows: (np.ones(len(windows), np.int64),
                                               np.zeros(len(windows))))  # hold, flat
    result = run_dqn_benchmark(tmp_path, monkeypatch)
    assert result["value"] is None
    extra = result["extra"]
    assert isinstance(extra, dict) and extra["dqn_gru_sharpe"] is None
    assert extra["sharpe_runs"] == {"dqn_mlp": "0 of 1 runs", "dqn_gru": "0 of 1 runs",
                                    "buy_and_hold": "1 of 1 runs"}


@pytest.mark.filterwarnings(r"ignore:seed \d+. the agent:UserWarning")  # tiny agents
def test_the_dqn_benchmark_records_the_costs_it_charged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # with --set trading.cost_bps=20 it wrote '5 bps cost + 5 bps slippage' and titled every
    # panel 'after 10 bps'
    titles: list[str] = []
    monkeypatch.setattr("rnnkit.viz.seed_equity.plot_seed_equity_grid",
                        lambda panels, path: titles.extend(panels) or path)
    result = run_dqn_benchmark(tmp_path, monkeypatch, "trading.cost_bps=20")
    extra = result["extra"]
    assert isinstance(extra, dict)
    assert extra["costs"] == "20 bps cost + 5 bps slippage per unit of position changed"
    assert titles == ["IBM: test 2004-12-31 to 2005-03-31, after 25 bps"]


def test_the_seed_tables_round_each_number_once() -> None:
    """The tables were formatted from the summary rounded to 4 decimals for results.json:
    a return of 0.164549 became 0.1645, then '+16.4%', where every seed's line said +16.5%."""
    from rnnkit.pipelines.dqn_report import format_cell, summarize, summary_table

    reports = [{"hold": {"total_return": 0.164549, "sharpe": 0.59, "max_drawdown": 0.01045,
                         "turnover": 0.012}}] * 2
    assert summarize(reports)["hold"]["total_return"]["mean"] == 0.1645  # the file's, as was
    exact = summarize(reports, digits=None)
    assert format_cell(exact["hold"], "total_return", "+.1%") == "+16.5% ± 0.0%"
    assert summary_table(exact).splitlines()[1].split() == [
        "hold", "+16.5%", "±", "0.0%", "0.59", "±", "0.00", "1.0%", "±", "0.0%", "0.012"]


def test_the_recorded_dqn_tables_match_the_per_seed_numbers_they_summarize() -> None:
    """benchmarks/results/dqn_trading.json (and the README, which report.py prints from it)
    showed five cells 0.1 point off, e.g. GOOG forecaster max drawdown 33.1% for 33.05%."""
    import sys

    from rnnkit.pipelines.dqn_report import format_cell, summarize, summary_table

    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(folder))
    try:
        from common import markdown_table
    finally:
        sys.path.remove(str(folder))
    result = json.loads((folder / "results" / "dqn_trading.json").read_text())
    rows, texts = [], []
    for row in result["rows"]:
        assert summarize(row["per_seed"]) == row["summary"]
        exact = summarize(row["per_seed"], digits=None)
        texts.append(f"{row['symbol']}\n{summary_table(exact)}")
        rows += [[row["symbol"], name, *(format_cell(numbers, metric, style) for metric, style
                                         in (("total_return", "+.1%"), ("sharpe", ".2f"),
                                             ("max_drawdown", ".1%")))]
                 for name, numbers in exact.items()]
    head = ["symbol", "strategy", "total return", "Sharpe", "max drawdown"]
    assert result["extra"]["table"] == markdown_table(head, rows)
    assert result["extra"]["text_tables"] == texts
