"""Stocks, walk-forward (issue 6): AAPL, IBM, MSFT, GOOG daily adjusted close, yearly folds.

For each symbol and each test year from 2006 (GOOG, listed 2004-08, from 2007), a GRU
forecaster of the next day's log return and a GRU buy/sell/hold classifier (tertile
thresholds of the training returns) are trained on every earlier day and predict the year.
Recorded: the price RMSE ratio to persistence (random walk), directional accuracy (beside
the share of the same days that went up: a forecast of "up" every day), macro-F1
against the majority class and the persistence signal, and backtests after 5 + 5 bps against
buy-and-hold and the persistence-driven strategies. Directional accuracy above 55% is flagged
as a possible leak.

    .venv/bin/python benchmarks/stocks_walk_forward.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import command_line, write_result  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", default="AAPL,IBM,MSFT,GOOG")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--keep", type=Path, help="keep the run folder here (plots, bundles)")
    parser.add_argument("--out", type=Path, help="write the result here instead")
    args = parser.parse_args()

    from rnnkit.config import load_config
    from rnnkit.pipelines.run import finite
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.stocks_job import run_stocks

    started = time.perf_counter()
    rows, tables = [], []
    for symbol in args.symbols.split(","):
        first = 2007 if symbol == "GOOG" else 2006
        settings = [f"data.symbols={symbol}", f"data.first_test_year={first}",
                    f"train.threads={args.threads}", *args.overrides]
        config = load_config(StocksRunConfig, None, settings)
        with tempfile.TemporaryDirectory() as folder:
            out = args.keep or Path(folder)
            summary = run_stocks(config, out, log=lambda line: print(line, flush=True))
        scores = summary["symbols"][0]
        rows.append({"settings": settings, "seconds": summary["seconds"],
                     **{key: scores[key] for key in ("symbol", "test_days", "first_decision",
                                                     "last_decision", "forecast",
                                                     "classification", "label_counts",
                                                     "backtest", "folds", "leak_alarm")}})
        tables.append(summary["table"].splitlines()[-1])
    header = summary["table"].splitlines()[:2]
    table = "\n".join([*header, *tables])
    print(table)
    ratios = [row["forecast"]["model"]["price_rmse_ratio_to_persistence"] for row in rows]
    path = write_result(
        "stocks_walk_forward",
        metric="price RMSE ratio to persistence, next day, mean over symbols (walk-forward)",
        value=sum(ratios) / len(ratios), unit="ratio",
        baseline={"name": "persistence (random walk)", "value": 1.0},
        command=command_line(), seconds=time.perf_counter() - started, rows=finite(rows),
        extra={"table": table}, path=args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
