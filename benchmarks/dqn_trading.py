"""DQN trading agents beside the supervised models (issue 7): AAPL, IBM, MSFT, GOOG daily
prices, trained up to 2009-12-31, tested once on the returns from 2010 to 2013-03-01 (first
decision at the close of 2009-12-31), after 5 + 5 bps.

For each symbol and seed: a DQN agent with a feed-forward Q-network (``dqn_mlp``) and one with
a GRU Q-network over the window (``dqn_gru``), each trained on the training period less its
latest 15% (the validation slice that picks the episode kept); the stock pipeline's GRU
forecaster (long when it predicts a rise) and buy/sell/hold classifier, trained on the same
training period; a random agent; buy-and-hold. Every strategy trades the same test days in the
same backtester. Recorded: total return, Sharpe and maximum drawdown after costs, mean and
spread over seeds, and one plot with every equity curve (``results/dqn_trading.png``).
No setting was tuned on the test period.

    .venv/bin/python benchmarks/dqn_trading.py           # 4 symbols x 3 seeds, 1 thread

A run stopped early goes on with the same command plus ``--resume``; it needs ``--keep DIR``
(the run folders are otherwise a temporary folder, gone with the process): each symbol and
agent whose folder holds a run resumes it as ``rnnkit train dqn --resume`` does (finished seeds
read back, the one under way after its last finished episode), the others start. Ctrl-C says
so (what was kept, how to go on) and exits 130, as ``rnnkit`` does, with no traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import RESULTS_DIR, command_line, markdown_table, write_result  # noqa: E402

AGENTS = {"dqn_mlp": "mlp", "dqn_gru": "recurrent"}


def merged_reports(runs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per seed: each agent's report under its own name, and the other strategies (from the
    run that trained the supervised models)."""
    merged = []
    for k, main_run in enumerate(runs["dqn_mlp"]["runs"]):
        reports = {name: runs[name]["runs"][k]["reports"]["dqn"] for name in AGENTS}
        reports.update({name: report for name, report in main_run["reports"].items()
                        if name != "dqn"})
        merged.append(reports)
    return merged


def interrupted_message(args: argparse.Namespace, error: KeyboardInterrupt) -> str:
    """What Ctrl-C kept, and how to go on (``error``: a supervised model's training stopped
    between two optimizer steps says where it saved)."""
    stopped = str(error) if str(error) else "interrupted"
    if args.keep is None:
        return (f"{stopped}; nothing was kept (the runs were in a temporary folder, now "
                "removed) and no result was written: run again with --keep DIR to keep the "
                "runs, so that a stopped benchmark goes on with --resume")
    again = "the same command" if args.resume else "the same command plus --resume"
    return (f"{stopped}; the runs so far are kept in {args.keep} (finished seeds; the seed under"
            " way up to its last finished episode, its supervised models from their last.pt) "
            f"and no result was written: continue with {again}")


def main() -> int:
    args = parse_arguments()
    try:
        return run(args)
    except KeyboardInterrupt as error:  # Ctrl-C: a line, not a traceback; exit 130 as rnnkit
        print(f"dqn_trading: {interrupted_message(args, error)}", file=sys.stderr)
        return 130


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", default="AAPL,IBM,MSFT,GOOG")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--keep", type=Path, help="keep the run folders here (bundles, plots)")
    parser.add_argument("--out", type=Path, help="write the result here instead")
    parser.add_argument("--resume", action="store_true",
                        help="go on with the runs in --keep (the same settings): a run folder "
                             "there resumes seed by seed and episode by episode, the others start")
    args = parser.parse_args()
    if args.resume and args.keep is None:
        parser.error("--resume needs --keep DIR, the folder of the runs to go on with (without "
                     "--keep they live in a temporary folder that is gone once the script ends)")
    return args


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from rnnkit.config import load_config
    from rnnkit.pipelines.dqn import DQNRunConfig, run_dqn
    from rnnkit.pipelines.dqn_report import format_cell, summarize, summary_table
    from rnnkit.pipelines.run import finite
    from rnnkit.viz.seed_equity import plot_seed_equity_grid

    started = time.perf_counter()
    rows, panels, tables, beats = [], {}, [], []
    table_rows = []
    with tempfile.TemporaryDirectory() as folder:
        base = args.keep or Path(folder)
        for symbol in args.symbols.split(","):
            runs: dict[str, dict[str, Any]] = {}
            settings: dict[str, list[str]] = {}
            for name, network in AGENTS.items():
                settings[name] = [f"data.symbol={symbol}", f"agent.network={network}",
                                  f"run.seeds=\"{args.seeds}\"", f"run.threads={args.threads}",
                                  f"run.supervised={'true' if name == 'dqn_mlp' else 'false'}",
                                  *args.overrides]
                config = load_config(DQNRunConfig, None, settings[name])
                run_folder = base / symbol / name
                resume = args.resume and (run_folder / "config.toml").is_file()  # else: not begun
                runs[name] = run_dqn(config, run_folder, resume=resume,
                                     log=lambda line, n=name: print(f"[{n}] {line}", flush=True))
            reports = merged_reports(runs)
            summary = summarize(reports)  # rounded for the results file
            exact = summarize(reports, digits=None)  # the tables: each number rounded once
            table = summary_table(exact)
            tables.append(f"{symbol}\n{table}")
            print(tables[-1], flush=True)
            curves = {name: runs[name]["curves"]["dqn"] for name in AGENTS}
            curves.update({name: curve for name, curve in runs["dqn_mlp"]["curves"].items()
                           if name != "dqn"})
            periods = runs["dqn_mlp"]["periods"]["test"]
            trading = runs["dqn_mlp"]["settings"]["trading"]  # the costs run_dqn charged
            costs = (f"{trading['cost_bps']:g} bps cost + {trading['slippage_bps']:g} bps "
                     "slippage per unit of position changed")
            panels[f"{symbol}: test {periods['first_decision']} to {periods['last_decision']}, "
                   f"after {trading['cost_bps'] + trading['slippage_bps']:g} bps"] = (
                curves, runs["dqn_mlp"]["times"])
            hold = reports[0]["buy_and_hold"]["total_return"]
            for name in AGENTS:
                beats += [report[name]["total_return"] > hold for report in reports]
            for name, numbers in exact.items():
                table_rows.append([symbol, name] + [
                    format_cell(numbers, metric, style) for metric, style in
                    (("total_return", "+.1%"), ("sharpe", ".2f"), ("max_drawdown", ".1%"))])
            rows.append({
                "symbol": symbol, "settings": settings, "periods": runs["dqn_mlp"]["periods"],
                "summary": summary, "per_seed": reports,
                "agent_training": {name: [{"seed": run["seed"], **{
                    key: run["dqn_training"][key]
                    for key in ("best_episode", "updates", "seconds")},
                    "validation_returns": [round(row["validation_return"], 4)
                                           for row in run["dqn_training"]["history"]],
                    "exploring_returns": [round(row["train_return"], 4)
                                          for row in run["dqn_training"]["history"]]}
                    for run in runs[name]["runs"]] for name in AGENTS},
                "seconds": {name: runs[name]["seconds"] for name in AGENTS}})
    folder = args.out.parent if args.out else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    figure = plot_seed_equity_grid(panels, folder / "dqn_trading.png")
    markdown = markdown_table(["symbol", "strategy", "total return", "Sharpe", "max drawdown"],
                              table_rows)
    print(markdown)
    sharpe, sharpe_runs = {}, {}
    for name in ("dqn_mlp", "dqn_gru", "buy_and_hold"):  # a run never in the market has none
        values = [report[name]["sharpe"] for row in rows for report in row["per_seed"]]
        finite_values = [value for value in values if np.isfinite(value)]
        sharpe[name] = round(float(np.mean(finite_values)), 4) if finite_values else None
        sharpe_runs[name] = f"{len(finite_values)} of {len(values)} runs"
    path = write_result(
        "dqn_trading",
        metric="test Sharpe ratio after costs of the feed-forward DQN agent, mean over symbols "
               "and seeds",
        value=sharpe["dqn_mlp"], unit="Sharpe (annualized, daily)",
        baseline={"name": "buy-and-hold", "value": sharpe["buy_and_hold"]},
        command=command_line(), seconds=time.perf_counter() - started, rows=finite(rows),
        extra={"table": markdown, "text_tables": tables, "plot": figure.name,
               "dqn_gru_sharpe": sharpe["dqn_gru"],
               "sharpe_runs": sharpe_runs,  # the runs with a Sharpe ratio (in the market)
               "agent_runs_beating_buy_and_hold": f"{sum(beats)} of {len(beats)} (total "
                                                  "return after costs, both agents)",
               "costs": costs},
        path=args.out)
    print(f"wrote {path} and {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
