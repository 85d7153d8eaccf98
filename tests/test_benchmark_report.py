"""benchmarks/report.py prints the README's tables: every number in its prose must come from
the results it reads, not from text written when the README was."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(FOLDER))

import report  # noqa: E402


def recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((FOLDER / "results" / f"{name}.json").read_text()))


def test_the_gradient_flow_prose_follows_the_recorded_runs() -> None:
    """It said 'turns inf at step None' for an unclipped run that did not diverge, and that
    the clipped run 'stays finite' whatever it did; the baseline was always '1/6'."""
    result = copy.deepcopy(recorded("gradient_flow_adding_100"))
    assert "turns inf at step 18; with clip_norm=1 it stays finite for all 600 steps" in (
        report.gradient_flow(result))
    explode = result["extra"]["exploding"]
    explode["no clipping"].update(diverged=False, diverged_at_step=None)
    explode["clip_norm=1"].update(diverged=True, diverged_at_step=40)
    for row in result["rows"]:
        row["baseline_loss"] = 2.0794415416798357  # the copy task's log 8
    text = report.gradient_flow(result)
    assert "None" not in text and "/ baseline (2.079)" in text
    assert ("without clipping it stays finite for all 600 steps; with clip_norm=1 it too "
            "diverges, at step 40.") in text


@pytest.mark.parametrize("name, change, expected", [
    ("translation_multi30k_cuda", None, "stopped at 10 (de->en) and 8 (en->de) epochs"),
    ("sequence_weather", lambda r: r["extra"]["test_accuracy_per_seed"].pop(),
     "(mean of 4 seeds)"),
    ("tagging_speed", lambda r: r["baseline"].update(value=1200), "vs Flair's 1,200 s"),
    ("lm_tinyshakespeare", lambda r: r["extra"].update(config=r["extra"]["config"].replace(
        "hidden_size = 384", "hidden_size = 512").replace("threads = 1", "threads = 2")),
     "(2 layers of 512, 1,903,554 parameters)"),
])
def test_the_prose_numbers_are_read_from_the_results(name: str, change: Any,
                                                      expected: str) -> None:
    """They were typed in: 'mean of 5 seeds', 'Flair's 1,500 s', '2 layers of 384 ... on one
    thread', the CPU translation runs' '10 (de->en) and 8 (en->de) epochs'."""
    result = copy.deepcopy(recorded(name))
    if change is not None:
        change(result)
    render = {name: render for name, _, render in report.SECTIONS}[name]
    text = render(result)
    assert expected in text
    if name == "lm_tinyshakespeare":
        assert "on 2 threads" in text


def test_the_translation_prose_reads_the_cpu_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = copy.deepcopy(recorded("translation_multi30k"))
    for row in cpu["rows"]:
        row["epochs"] = {"de->en": 12, "en->de": 9}[row["pair"]]
    load = report._load
    monkeypatch.setattr(report, "_load",
                        lambda name: cpu if name == "translation_multi30k" else load(name))
    text = report.translation_gpu(recorded("translation_multi30k_cuda"))
    assert "stopped at 12 (de->en) and 9 (en->de) epochs" in text


def test_the_gpu_translation_renders_beside_a_cpu_report_of_some_variants(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``translation_multi30k.py report --variants de-en-attention`` writes no en->de row:
    the GPU section then failed with KeyError ('en->de', 'beam'); it now leaves out the
    comparison with the CPU runs that it cannot make."""
    cpu = copy.deepcopy(recorded("translation_multi30k"))
    cpu["rows"] = [r for r in cpu["rows"] if r["variant"] == "de-en-attention"]
    load = report._load
    monkeypatch.setattr(report, "_load",
                        lambda name: cpu if name == "translation_multi30k" else load(name))
    text = report.translation_gpu(recorded("translation_multi30k_cuda"))
    assert "the CPU runs above" not in text
    assert recorded("translation_multi30k_cuda")["extra"]["table"] in text


def test_the_gpu_language_model_quotes_the_best_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The section's own run was called 'best' (and its sample shown) whatever the others
    scored; the sample's prime, temperature and seed were typed in."""
    larger = copy.deepcopy(recorded("lm_tinyshakespeare_cuda_2x1024"))
    larger["value"], larger["extra"]["sample"] = 1.3, "ROMEO:\nthe larger model's sample"
    larger["extra"]["sample_settings"].update(prime="JULIET:", temperature=0.5)
    load = report._load
    monkeypatch.setattr(report, "_load", lambda name: larger if name.endswith("2x1024")
                        else load(name))
    text = report.language_model_gpu(recorded("lm_tinyshakespeare_cuda"))
    assert "best **1.300 nats/char**" in text
    assert ("A sample of the best model (prime `JULIET:`, temperature 0.5, seed 0):\n\n"
            "```text\nROMEO:\nthe larger model's sample\n```") in text


def test_numbers_stored_as_null_print_n_a_instead_of_failing() -> None:
    """A result file holds null where a number was NaN or infinite: a strategy never in the
    market has no Sharpe ratio, a first-step gradient that underflowed to 0 no log10 ratio;
    report.py failed with 'unsupported format string passed to NoneType.__format__'."""
    stocks = copy.deepcopy(recorded("stocks_walk_forward"))
    stocks["rows"][0]["backtest"]["signal"]["sharpe"] = None
    row = next(line for line in report.stocks(stocks).splitlines() if line.startswith("| AAPL"))
    assert "| +68% / n/a |" in row
    flow = copy.deepcopy(recorded("gradient_flow_adding_100"))
    flow["rows"][0]["log10_first_over_last_after_training"] = None
    flow["rows"][1]["log10_first_over_last_at_init"] = None
    lines = report.gradient_flow(flow).splitlines()
    assert "| rnn | -2.6 | n/a |" in "\n".join(lines)
    assert "| lstm | n/a | -0.9 |" in "\n".join(lines)
