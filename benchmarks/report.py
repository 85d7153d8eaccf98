"""Render the README's results tables from ``benchmarks/results/*.json``.

The README quotes only what the benchmark scripts measured; this prints those numbers as
markdown so the two cannot drift apart::

    python benchmarks/report.py > /tmp/results.md
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, markdown_table  # noqa: E402


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"


def _num(value: float | None, spec: str) -> str:
    """``value`` in format ``spec``; "n/a" for None, which a result file holds where the
    number was NaN or infinite (a Sharpe ratio of a strategy never in the market, a gradient
    ratio of a norm that underflowed to 0): formatting it failed with a TypeError."""
    return "n/a" if value is None else f"{value:{spec}}"


def _footer(result: dict[str, Any]) -> str:
    """The command, when it finished, how long it took and how busy the machine was.

    ``machine`` is written when the result is (``common.write_result``), so its load average
    is the one at the end of the run; only a script that records ``load_average_at_start``
    (``layer_throughput.py``) says what it was at the start."""
    start = (result.get("extra") or {}).get("load_average_at_start")
    load = (f"load average at start {start}" if start is not None
            else f"load average at the end {result['machine'].get('load_average')}")
    return (f"\n\n<sub>`{result['command']}` · {result['date']} · {result['seconds']:.0f} s · "
            f"{load}</sub>\n")


def layer_throughput(result: dict[str, Any]) -> str:
    shape = result["extra"]["shape"]
    shown = ", ".join(f"{k}={v}" for k, v in shape.items())
    return (f"Training throughput (forward + backward, {shown}, float32); lowest fused/torch "
            f"ratio **{result['value']:.3f}**.\n\n{result['extra']['table']}" + _footer(result))


def layer_throughput_gpu(result: dict[str, Any]) -> str:
    return f"On {result['machine']['gpu']}. " + layer_throughput(result)


def tagging(result: dict[str, Any]) -> str:
    row = result["rows"][0]
    test, dev = row["test"], row["dev"]
    metric = result["metric"].removeprefix("test_")
    cells = [row["dataset"], _pct(test.get(metric)), _pct(dev.get(metric)),
             _pct(test.get("accuracy")), f"{row['train_seconds']:.0f}", row["epochs"],
             f"{row['tokens_per_second']:,.0f}",
             f"{result['baseline']['name']}: {_pct(result['baseline']['value'])}"]
    head = ["dataset", f"test {metric}", f"dev {metric}", "test token acc", "train s",
            "epochs", "train tok/s", "reference"]
    return markdown_table(head, [cells]) + _footer(result)


def ablation(result: dict[str, Any]) -> str:
    rows = [[r["model"], _pct(r["test_accuracy"]), _pct(r["dev_accuracy"]),
             f"{r['train_seconds']:.0f}"] for r in result["rows"]]
    return (f"UD English-EWT UPOS, {result['extra']['epochs_per_run']} epochs each.\n\n"
            + markdown_table(["model", "test acc", "dev acc", "train s"], rows)
            + _footer(result))


def _sweep_device(result: dict[str, Any]) -> str:
    """Where a sweep trained: the GPU's name, or the CPU (``--device cpu``: no GPU to name)."""
    machine = result["machine"]
    if result["extra"].get("device", "cuda") == "cuda" and machine.get("gpu"):
        return str(machine["gpu"])
    return f"CPU ({machine.get('cpu_model') or 'unknown'})"


def speed(result: dict[str, Any]) -> str:
    extra = result["extra"]
    curve = ", ".join(f"{r['seconds']:.0f} s: {_pct(r['test_accuracy'])}"
                      for r in result["rows"][:6])
    if extra["seconds_to_target"] is None:  # tagging.py records None: never reached
        reached = (f"not reached in {len(result['rows'])} epoch(s) (Flair: "
                   f"{result['baseline']['value']:,} s)")
    else:
        reached = (f"reached after **{extra['seconds_to_target']:.0f} s** vs Flair's "
                   f"{result['baseline']['value']:,} s (**{result['value']}x** sooner; Flair's "
                   "time is a figure the script holds, not a run measured here)")
    return (f"One thread, UD English-EWT: 92.1% test UPOS {reached}; training "
            f"{extra['tokens_per_second']:,.0f} tokens/s. Test accuracy after each epoch: "
            f"{curve}." + _footer(result))


def word2vec(result: dict[str, Any]) -> str:
    rows = [[r["corpus"], r["words"], f"{r['wordsim353_spearman']:.3f}",
             f"{r['simlex999_spearman']:.3f}", _pct(r["analogy_accuracy"]),
             f"{r['train_seconds']:.0f}"] for r in result["rows"]]
    head = ["corpus", "words", "WordSim-353 ρ", "SimLex-999 ρ", "analogy %", "train s"]
    return markdown_table(head, rows) + _footer(result)


def gradient_flow(result: dict[str, Any]) -> str:
    rows = [[r["cell"], _num(r["log10_first_over_last_at_init"], "+.1f"),
             _num(r["log10_first_over_last_after_training"], "+.1f"), f"{r['test_loss']:.5f}",
             f"{r['loss_vs_baseline']:.3f}", "yes" if r["solved"] else "no",
             f"{r['train_seconds']:.0f}"] for r in result["rows"]]
    from fractions import Fraction

    baselines = {row["baseline_loss"] for row in result["rows"]}
    baseline = ""  # the trivial baseline's loss: 1/6 for the adding task
    if len(baselines) == 1:
        value = baselines.pop()
        simple = Fraction(value).limit_denominator(100)
        baseline = str(simple) if abs(float(simple) - value) < 1e-12 else f"{value:.4g}"
    head = ["cell", "log10 first/last, init", "log10 first/last, trained", "test MSE",
            f"/ baseline ({baseline})" if baseline else "/ baseline", "solved", "train s"]
    explode = result["extra"]["exploding"]
    settings = explode["settings"]
    free, clipped = explode["no clipping"], explode[f"clip_norm={settings['clip_norm']:g}"]
    unclipped = (f"the gradient norm grows about 10x per step and turns inf at step "
                 f"{free['diverged_at_step']}" if free["diverged"] else
                 f"it stays finite for all {settings['steps']} steps")
    with_clipping = (f"it too diverges, at step {clipped['diverged_at_step']}"
                     if clipped["diverged"] else
                     f"it stays finite for all {settings['steps']} steps (final loss "
                     f"{_num(clipped['final_loss'], '.3f')})")
    return (f"Adding problem, length 100, hidden {result['extra']['settings']['hidden_size']}, "
            f"{result['extra']['settings']['steps']} Adam steps per cell; ‖dL/dh_t‖ at the "
            "first step over the last (orders of magnitude).\n\n" + markdown_table(head, rows)
            + f"\n\nExploding: a tanh RNN with recurrent weights {settings['gain']:g}x "
            f"orthogonal, SGD lr {settings['lr']:g}: without clipping {unclipped}; with "
            f"clip_norm={settings['clip_norm']:g} {with_clipping}." + _footer(result))


def forecast_beijing(result: dict[str, Any]) -> str:
    summary = result["extra"]["summary"]
    rows = [[row["seed"], f"{row['model_mae']:.3f}", f"{row['ratio_to_persistence']:.3f}",
             f"{row['ratio_to_ridge']:.3f}", *_against_ridge(row.get("against_ridge")),
             row["best_epoch"], f"{row['seconds']:.0f}"] for row in result["rows"]]
    rows.append(["mean ± sd", f"{summary['model_mae_mean']:.3f} ± {summary['model_mae_std']:.3f}",
                 f"{summary['ratio_to_persistence']:.3f}", f"{summary['ratio_to_ridge']:.3f}",
                 *(f"{summary[key]:.3f}" if key in summary else "" for key in (
                     "error_correlation_with_ridge", "blend_with_ridge_mae")), "", ""])
    head = ["seed", "test MAE °C", "/ persistence", "/ ridge", "error corr. with ridge",
            "blend with ridge °C (ridge weight)", "best epoch", "train s"]
    bars = ("met" if summary["meets_persistence_bar"] else "**not met**",
            "met" if summary["meets_ridge_bar"] else "**not met**")
    return (f"Temperature 24 h ahead, test 2014 (every hour): persistence "
            f"{summary['persistence_mae']:.3f} °C, ridge on the same windows and input columns "
            f"{summary['ridge_mae']:.3f} °C; the mean forecast of the seeds' models "
            f"{summary['seed_ensemble_mae']:.3f} °C. Bars: ≤ 0.80x persistence {bars[0]}, "
            f"≤ 0.95x ridge {bars[1]}.\n\n" + markdown_table(head, rows) + _footer(result)
            + _beijing_variants() + _beijing_sweeps())


def _against_ridge(row: dict[str, Any] | None) -> list[str]:
    """A seed's test error correlation with ridge and its blend with ridge (weight chosen on
    validation), or blanks for a run made before the script measured them."""
    if row is None:
        return ["", ""]
    return [f"{row['error_correlation_test']:.3f}",
            f"{row['blend_test_mae']:.3f} ({row['blend_ridge_weight']:.2f})"]


def _beijing_variants() -> str:
    """The ablation rows (``forecast_beijing.py --variant``), if any."""
    table = _load("forecast_beijing_variants")
    if table is None:
        return ""
    rows = [[row["variant"], len(row["seeds"]),
             f"{row['model_mae_mean']:.3f}" + (f" ± {row['model_mae_std']:.3f}"
                                               if len(row["seeds"]) > 1 else ""),
             f"{row['ratio_to_persistence']:.3f}", f"{row['ridge_mae']:.3f}",
             f"{row['ratio_to_ridge']:.3f}", row["date"][:10]] for row in table["rows"]]
    head = ["variant", "seeds", "test MAE °C", "/ persistence", "ridge (same inputs)",
            "/ ridge", "date"]
    return ("\nVariants (`benchmarks/results/forecast_beijing_variants.json`):\n\n"
            + markdown_table(head, rows) + "\n")


def _beijing_sweeps() -> str:
    """Bigger models on a GPU (``forecast_beijing_sweep.py``), one table per round."""
    parts = []
    for name in ("forecast_beijing_sweep", *(f"forecast_beijing_sweep_{r}" for r in ("lr", "reg"))):
        result = _load(name)
        if result is None:
            continue
        overall = result["extra"]["overall"]
        rows = [[row["config"], len(row["seeds"]),
                 f"{row['val_mae_mean']:.3f}" if "val_mae_mean" in row else "n/a",
                 f"{row['model_mae_mean']:.3f} ± {row['model_mae_std']:.3f}",
                 f"{row['model_mae_mean'] / overall['persistence_mae']:.3f}",
                 f"{row['model_mae_mean'] / overall['ridge_mae']:.3f}",
                 f"{row['seed_ensemble_mae']:.3f}", str(row["best_epochs"]),
                 f"{row['train_seconds_mean']:.0f}"] for row in result["rows"]]
        head = ["config", "seeds", "val MAE (scaled)", "test MAE °C", "/ persistence", "/ ridge",
                "seeds' mean forecast", "best epochs", "train s"]
        parts.append(
            f"\nSweep, round `{result['extra'].get('round', 'size')}` "
            f"(`benchmarks/results/{name}.json`, on {_sweep_device(result)}); the mean "
            f"forecast of all {overall['models']} models: "
            f"{overall['all_models_mean_forecast_mae']:.3f} °C.\n\n"
            + markdown_table(head, rows) + _footer(result))
    return "".join(parts)


def forecast_intervals(result: dict[str, Any]) -> str:
    summary = result["extra"]["summary"]
    seeds = ", ".join(str(seed) for seed in result["extra"]["seeds"])
    kinds = {"model": "the model's own", "cqr": "conformalized (CQR)",
             "conformal": "point forecast ± conformal", "persistence conformal":
             "persistence ± conformal"}
    rows = [[loss, label, f"{report[kind]['coverage_last']:.3f}",
             f"{report[kind]['width_last']:.2f}", f"{report[kind]['score_last']:.2f}",
             f"{report[kind]['coverage_all']:.3f}", f"{report[kind]['score_all']:.2f}"]
            for loss, report in summary.items() for kind, label in kinds.items()
            if kind in report]
    head = ["loss", "90% interval", "coverage (24 h)", "width °C (24 h)",
            "interval score (24 h)", "coverage (all steps)", "interval score (all steps)"]
    points = ", ".join(f"{loss} {report['point']['mae_last']:.3f}"
                       for loss, report in summary.items())
    return (f"Beijing temperature, test 2014, the recipe of the forecast above with a "
            f"probabilistic loss (or its own MAE, which has no interval of its own); means over "
            f"seeds {seeds}. Conformal intervals (`forecast.conformal=true`) are calibrated "
            f"on 2013 only. Test MAE of the point forecast (mean or median) 24 h ahead: "
            f"{points} °C.\n\n" + markdown_table(head, rows) + _footer(result))


def stocks(result: dict[str, Any]) -> str:
    rows = []
    for row in result["rows"]:
        tests, forecast = row["backtest"], row["forecast"]
        rows.append([row["symbol"], f"{row['first_decision'][:4]}-{row['last_decision'][:4]}",
                     f"{forecast['model']['price_rmse_ratio_to_persistence']:.4f}",
                     f"{forecast['ridge']['price_rmse_ratio_to_persistence']:.4f}",
                     _pct(forecast["model"]["directional_accuracy"]),
                     _pct(forecast["always_up"]["directional_accuracy"])
                     if "always_up" in forecast else "n/a",
                     f"{row['classification']['model']['macro_f1']:.3f}",
                     f"{row['classification']['majority']['macro_f1']:.3f}",
                     f"{row['classification']['persistence']['macro_f1']:.3f}",
                     *(f"{tests[name]['total_return']:+.0%} / {_num(tests[name]['sharpe'], '.2f')}"
                       for name in ("forecaster", "signal", "persistence_forecast",
                                    "buy_and_hold"))])
    head = ["symbol", "test years", "price RMSE / persistence", "ridge", "direction %",
            "up every day %", "macro-F1", "majority", "persistence signal", "forecaster strategy",
            "signal strategy", "persistence strategy", "buy & hold"]
    return ("Walk-forward, one fold per test year, next-day forecasts; strategies long/flat, "
            "total return / Sharpe after 5 + 5 bps per unit traded.\n\n"
            + markdown_table(head, rows) + _footer(result))


def dqn(result: dict[str, Any]) -> str:
    return ("Test returns from the first trading day of 2010 to 2013-03 (first decision at the "
            "close of 2009-12-31), after the same costs; mean ± spread over the seeds; "
            "every equity curve in `benchmarks/results/dqn_trading.png`. Feed-forward DQN "
            f"Sharpe {result['value']:.2f} averaged over symbols and seeds.\n\n"
            + result["extra"]["table"] + _footer(result))


SENTIMENT = [("sst2", "SST-2", "max"), ("sst2_attention", "SST-2", "attention"),
             ("sst2_frozen", "SST-2", "max, frozen vectors"), ("sst5", "SST-5", "max"),
             ("sst5_attention", "SST-5", "attention"), ("imdb", "IMDB", "max")]


def sentiment(_: dict[str, Any]) -> str:
    rows, footers = [], []
    for name, dataset, pooling in SENTIMENT:
        result = _load(f"sentiment_{name}")
        if result is None:
            continue
        extra = result["extra"]
        rows.append([dataset, pooling, _pct(extra["test"]["scores"]["accuracy"]),
                     _pct(extra["dev"]["scores"]["accuracy"]),
                     _pct(extra["test"]["majority_class_accuracy"]),
                     f"{100 * result['baseline']['target']:.0f}", f"{extra['train_seconds']:.0f}",
                     extra["epochs"]])
        footers.append(_footer(result).strip())
    head = ["dataset", "pooling", "test acc", "dev acc", "majority", "target", "train s",
            "epochs"]
    return ("Bidirectional LSTM (SST) or GRU (IMDB) over IMDB word2vec vectors, fine-tuned; "
            "SST trains on every phrase; IMDB keeps the first and last 200 tokens. Each row is its "
            "run's epoch with the best dev accuracy; the variants (pooling, frozen vectors) "
            "were compared on dev only. \"majority\" is the test set's own most common class "
            "(the best constant guess there; the training sentences' majority scores less on "
            "SST-5: positive, 23.08).\n\n" + markdown_table(head, rows)
            + "\n\n" + "<br>".join(footers) + "\n")


def language_model(result: dict[str, Any]) -> str:
    extra = result["extra"]
    layers, hidden = _lm_size(result).split(" x ")
    threads = _lm_config(result).get("train", {}).get("threads", 0)
    on = ("one thread" if threads == 1 else f"{threads} threads" if threads else
          "torch's default threads")
    return (f"Character LSTM ({layers} layers of {hidden}, {extra['parameters']:,} parameters), "
            f"the last 10% of tiny-shakespeare validating: **{result['value']:.3f} nats/char** "
            f"({extra['bits_per_character']:.3f} bits, perplexity {extra['perplexity']:.2f}) "
            f"after {extra['epochs']} epochs, {extra['train_seconds']:.0f} s on {on}. "
            f"A sample ({_sample_settings(result)}):\n\n```text\n"
            + extra["sample"] + "\n```" + _footer(result))


def _lm_config(result: dict[str, Any]) -> dict[str, Any]:
    """The run's config.toml, read."""
    import tomllib

    return tomllib.loads(result["extra"]["config"])


def _lm_size(result: dict[str, Any]) -> str:
    """"3 x 512" from the run's config (the model section of its config.toml)."""
    model = _lm_config(result).get("model", {})
    return f"{model.get('num_layers', '?')} x {model.get('hidden_size', '?')}"


LM_GPU = [("lm_tinyshakespeare_cuda_cpu_recipe", "the CPU run's recipe"),
          ("lm_tinyshakespeare_cuda", "3 layers, dropout 0.25, 30 epochs"),
          ("lm_tinyshakespeare_cuda_2x1024", "2 layers of 1024, dropout 0.3, 30 epochs")]


def _sample_settings(result: dict[str, Any]) -> str:
    """"prime `ROMEO:`, temperature 0.8, seed 0": how the run's sample was drawn."""
    given = result["extra"].get("sample_settings") or {}
    return (f"prime `{given.get('prime', '?')}`, temperature {given.get('temperature', '?')}, "
            f"seed {given.get('seed', '?')}")


def language_model_gpu(result: dict[str, Any]) -> str:
    """The same pipeline on a GPU: the CPU recipe for the speed-up, then bigger models; the
    best of the GPU runs (lowest validation loss) quoted with its sample."""
    cpu = _load("lm_tinyshakespeare")
    runs = [(cpu, "the CPU run above (one thread)")] if cpu else []
    runs += [(r, label) for r, label in ((_load(name), label) for name, label in LM_GPU) if r]
    best = min((r for r, _ in runs if r is not cpu), key=lambda r: r["value"], default=result)
    rows = [[label, _lm_size(r), f"{r['extra']['parameters']:,}", f"{r['value']:.4f}",
             f"{r['extra']['bits_per_character']:.3f}", r["extra"]["epochs"],
             f"{r['extra']['train_seconds']:.0f}", f"{r['extra']['chars_per_second']:,.0f}",
             r["machine"]["gpu"] or "CPU"] for r, label in runs]
    head = ["run", "LSTM", "parameters", "val nats/char", "bits/char", "epochs", "train s",
            "train chars/s", "device"]
    footers = "<br>".join(_footer(r).strip() for r, _ in runs if r is not cpu)
    return (f"On {best['machine']['gpu']}, the same pipeline (`rnnkit train lm`'s code) and "
            "validation text as above; best **" + f"{best['value']:.3f} nats/char**.\n\n"
            + markdown_table(head, rows) + "\n\nA sample of the best model ("
            + _sample_settings(best) + "):\n\n```text\n" + best["extra"]["sample"] + "\n```\n\n"
            + footers + "\n")


def weather_sequences(result: dict[str, Any]) -> str:
    extra, base = result["extra"], result["baseline"]
    seeds = len(extra["test_accuracy_per_seed"])
    rows = [[f"GRU over the past days (mean of {seeds} seeds)",
             f"{_pct(result['value'])} ± {100 * extra['test_accuracy_std']:.2f}"],
            ["persistence (tomorrow = today)", _pct(base["persistence"])],
            ["logistic regression on the last 7 days", _pct(base["value"])],
            [f"majority class ({base['majority_label']})", _pct(base["majority_class"])]]
    return ("Seattle weather (vega_datasets): the weather type of the next day from the past "
            "days' numeric columns, test year 2015.\n\n"
            + markdown_table(["model", "test accuracy %"], rows) + _footer(result))


def translation(result: dict[str, Any]) -> str:
    signature = result["rows"][0]["bleu_signature"] if result["rows"] else ""
    return ("Multi30k test_2016_flickr, detokenized cased output, sacreBLEU "
            f"(`{signature}`).\n\n" + result["extra"]["table"] + _footer(result))


def translation_gpu(result: dict[str, Any]) -> str:
    """The translation pipeline on a GPU, trained until validation BLEU stops rising."""
    cpu = _load("translation_multi30k")
    before = ""
    rows = {(r["pair"], r["decoding"]): r for r in cpu["rows"]
            if "attention" in r["model"]} if cpu else {}
    de_en, en_de = rows.get(("de->en", "beam")), rows.get(("en->de", "beam"))
    if de_en and en_de:  # none with a CPU report of some variants only: no comparison
        before = (f"; the CPU runs above stopped at {de_en['epochs']} (de->en) and "
                  f"{en_de['epochs']} (en->de) epochs with beam BLEU {de_en['bleu']} and "
                  f"{en_de['bleu']}")
    return (f"On {result['machine']['gpu']}, the same benchmark script and pipeline, up to 30 "
            "epochs with the default early stopping (patience 3 on validation BLEU)" + before
            + ". The four runs shared the GPU, so their minutes are shared time.\n\n"
            + result["extra"]["table"] + _footer(result)
            + "\nEach run's training command is in the result's `extra.train_commands`.\n")


SECTIONS: list[tuple[str, str, Callable[[dict[str, Any]], str]]] = [
    ("layer_throughput", "Layer speed", layer_throughput),
    ("layer_throughput_cuda", "Layer speed on a GPU", layer_throughput_gpu),
    ("gradient_flow_adding_100", "Vanishing and exploding gradients", gradient_flow),
    ("tagging_ud", "Part-of-speech tagging (UD English-EWT UPOS)", tagging),
    ("tagging_speed", "Time to accuracy, one thread", speed),
    ("tagging_ablation", "What each part adds (UD English-EWT UPOS)", ablation),
    ("tagging_uner", "Named entities (UNER English-EWT)", tagging),
    ("tagging_wnut", "Named entities (WNUT-17)", tagging),
    ("word2vec_quality", "word2vec", word2vec),
    ("forecast_beijing", "Forecasting Beijing hourly temperature", forecast_beijing),
    ("forecast_intervals", "Prediction intervals (Beijing)", forecast_intervals),
    ("stocks_walk_forward", "Stocks: forecast, buy/sell/hold and backtest", stocks),
    ("dqn_trading", "A DQN agent beside the supervised strategies", dqn),
    ("sentiment_sst2", "Sentiment classification", sentiment),
    ("sequence_weather", "Classifying numeric sequences", weather_sequences),
    ("lm_tinyshakespeare", "Character language model", language_model),
    ("lm_tinyshakespeare_cuda", "Character language model on a GPU", language_model_gpu),
    ("translation_multi30k", "Translation (Multi30k)", translation),
    ("translation_multi30k_cuda", "Translation on a GPU", translation_gpu),
]


def main() -> int:
    for name, title, render in SECTIONS:
        result = _load(name)
        if result is not None:
            print(f"### {title}\n\n{render(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
