"""Backtest reports of several seeds summarized: mean, spread (sample standard deviation),
lowest and highest of each number, per strategy, and a plain-text table of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

METRICS = ("total_return", "annualized_return", "sharpe", "max_drawdown", "turnover", "trades")


def summarize(reports: Sequence[Mapping[str, Mapping[str, float]]], digits: int | None = 4
              ) -> dict[str, dict[str, dict[str, float]]]:
    """``[{strategy: report}]`` one per seed -> ``{strategy: {metric: {mean, std, min, max,
    runs}}}``; ``std`` is 0 for one seed; NaN values (a Sharpe ratio never in the market) are
    left out of the numbers. Rounded to ``digits`` (for a results file); ``None`` keeps every
    digit, as :func:`summary_table` and :func:`format_cell` need: a mean rounded twice
    (0.164549 to 0.1645, then to one decimal of a percent) printed 16.4% for 16.5%.

    Example:
        >>> runs = [{"a": {"sharpe": 1.0}}, {"a": {"sharpe": 2.0}}]
        >>> summarize(runs)["a"]["sharpe"]
        {'mean': 1.5, 'std': 0.7071, 'min': 1.0, 'max': 2.0, 'runs': 2}
    """
    if not reports:
        raise ValueError("no reports to summarize")
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for name in reports[0]:
        summary[name] = {}
        for metric in METRICS:
            values = np.array([run[name][metric] for run in reports if metric in run[name]],
                              dtype=float)
            values = values[np.isfinite(values)]
            if not len(values):
                continue
            spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            numbers = {"mean": float(values.mean()), "std": spread,
                       "min": float(values.min()), "max": float(values.max())}
            summary[name][metric] = {**{key: value if digits is None else round(value, digits)
                                        for key, value in numbers.items()},
                                     "runs": len(values)}
    return summary


def format_cell(numbers: Mapping[str, Mapping[str, Any]], metric: str, style: str) -> str:
    """``mean ± std`` of one metric in a format (``+.1%``, ``.1%``, ``.2f``); with fewer runs
    than the total return has (a Sharpe ratio of a seed never in the market), how many.
    ``numbers`` unrounded (``summarize(..., digits=None)``), so that each is rounded once.

    Example:
        >>> numbers = summarize([{"a": {"total_return": 0.0, "sharpe": float("nan")}},
        ...                      {"a": {"total_return": 0.2, "sharpe": 1.5}}], None)["a"]
        >>> format_cell(numbers, "total_return", "+.1%"), format_cell(numbers, "sharpe", ".2f")
        ('+10.0% ± 14.1%', '1.50 ± 0.00 (1 of 2 seeds)')
    """
    value = numbers.get(metric)
    if value is None:
        return "n/a"
    spread = f"{value['std']:.2f}" if style == ".2f" else f"{value['std']:.1%}"
    text = f"{value['mean']:{style}} ± {spread}"
    total = numbers.get("total_return", value)["runs"]
    return text if value["runs"] == total else f"{text} ({value['runs']} of {total} seeds)"


def summary_table(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """One row per strategy: total return, Sharpe, max drawdown (mean ± std) and turnover,
    from an unrounded summary (``summarize(..., digits=None)``; see :func:`format_cell`).

    Example:
        >>> print(summary_table(summarize([{"a": {"total_return": 0.1, "sharpe": 1.0,
        ...                                       "max_drawdown": 0.05, "turnover": 0.1}}], None)))
        strategy  total          sharpe       max_dd       turnover
        a         +10.0% ± 0.0%  1.00 ± 0.00  5.0% ± 0.0%  0.100
    """
    rows = [("strategy", "total", "sharpe", "max_dd", "turnover")]
    for name in summary:
        turnover = summary[name].get("turnover", {}).get("mean", float("nan"))
        numbers = summary[name]
        rows.append((name, format_cell(numbers, "total_return", "+.1%"),
                     format_cell(numbers, "sharpe", ".2f"),
                     format_cell(numbers, "max_drawdown", ".1%"), f"{turnover:.3f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True))
                     .rstrip() for row in rows)
