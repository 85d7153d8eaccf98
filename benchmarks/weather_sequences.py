"""Numeric-sequence classification: tomorrow's weather type in Seattle from the past days.

Each example is the past 7 to 28 days (a seeded length per example: sequences of different
lengths) of precipitation, max/min temperature, wind, the day's weather type (one-hot) and the
season (sin/cos of the day of the year); its label is the next day's ``weather`` (sun, fog,
rain, drizzle, snow). The examples are written as long CSV files (id, step, features, label)
under the run folder and read back by ``rnnkit train classifier --format numeric``'s reader;
features are scaled with training statistics only.

Split by time: targets in 2012-2013 train, 2014 validates, 2015 tests. The labels drift a lot
between years (2012 has 191 "rain" days, 2014 has 3 and 151 "fog"), which bounds every model.
Baselines: the majority class of the training years, persistence (tomorrow = today), and a
multinomial logistic regression on the last 7 days (flattened, same features).

Usage:
    python benchmarks/weather_sequences.py --set train.threads=1
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import command_line, write_result  # noqa: E402

from rnnkit.config import load_config  # noqa: E402
from rnnkit.pipelines.classifier import ClassifierRunConfig, train_classifier  # noqa: E402
from rnnkit.timeseries.datasets import seattle_weather  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TYPES = ("sun", "fog", "rain", "drizzle", "snow")
NUMERIC = ("precipitation", "temp_max", "temp_min", "wind")
SPLIT_YEARS = {"train": (2012, 2013), "dev": (2014, 2014), "test": (2015, 2015)}
MIN_DAYS, MAX_DAYS, FLAT_DAYS = 7, 28, 7


def daily_features() -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Features ``[D, F]`` per day, their names, the weather labels, and each day's year."""
    frame = seattle_weather()
    days = frame.index.day_of_year.to_numpy()
    columns = [frame[name].to_numpy(dtype=float) for name in NUMERIC]
    columns += [(frame["weather"] == kind).to_numpy(dtype=float) for kind in TYPES]
    columns += [np.sin(2 * np.pi * days / 365.25), np.cos(2 * np.pi * days / 365.25)]
    names = [*NUMERIC, *(f"is_{kind}" for kind in TYPES), "season_sin", "season_cos"]
    return (np.stack(columns, axis=1), names, frame["weather"].astype(str).tolist(),
            frame.index.year.to_numpy())


def write_long_csvs(folder: Path, seed: int = 0) -> dict[str, Path]:
    """One long CSV per split: ``id, step, <features>, label``."""
    features, names, labels, years = daily_features()
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, (first, last) in SPLIT_YEARS.items():
        path = folder / f"{split}.csv"
        with open(path, "w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["id", "step", *names, "label"])
            for target in range(MAX_DAYS, len(labels)):
                if not first <= years[target] <= last:
                    continue
                length = int(rng.integers(MIN_DAYS, MAX_DAYS + 1))
                for step, day in enumerate(range(target - length, target)):
                    writer.writerow([target, step, *features[day].round(4), labels[target]])
        paths[split] = path
    return paths


def baselines() -> dict[str, float]:
    """Majority class, persistence and logistic regression on the test year."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    features, _, labels, years = daily_features()
    targets = range(MAX_DAYS, len(labels))
    rows = {split: [t for t in targets if first <= years[t] <= last]
            for split, (first, last) in SPLIT_YEARS.items()}

    def flat(split: str) -> np.ndarray:
        return np.stack([features[t - FLAT_DAYS : t].reshape(-1) for t in rows[split]])

    gold = {split: np.array([labels[t] for t in rows[split]]) for split in rows}
    values, counts = np.unique(gold["train"], return_counts=True)
    majority = values[counts.argmax()]
    scaler = StandardScaler().fit(flat("train"))
    logistic = LogisticRegression(max_iter=2000, C=1.0)
    logistic.fit(scaler.transform(flat("train")), gold["train"])
    predicted = logistic.predict(scaler.transform(flat("test")))
    persistence = np.array([labels[t - 1] for t in rows["test"]])
    return {
        "majority_class": float((gold["test"] == majority).mean()),
        "majority_label": str(majority),
        "persistence": float((gold["test"] == persistence).mean()),
        "logistic_regression_last_7_days": float((gold["test"] == predicted).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-weather")
    parser.add_argument("--seeds", type=int, default=5, help="training seeds (mean reported)")
    args = parser.parse_args()
    started = time.perf_counter()
    paths = write_long_csvs(args.out / "data")
    overrides = [f'data.train="{paths["train"]}"', f'data.dev="{paths["dev"]}"',
                 f'data.test="{paths["test"]}"', "data.format=numeric", "data.time_column=step",
                 "model.hidden_size=32", "model.bidirectional=false", "model.cell=gru",
                 "classifier.pooling=last", "classifier.embedding_dropout=0.0",
                 "classifier.output_dropout=0.3", "train.epochs=30", "train.patience=6",
                 "train.lr_patience=3", "train.progress=false", *args.overrides]
    runs = []
    for seed in range(args.seeds):
        config = load_config(ClassifierRunConfig, None, [*overrides, f"train.seed={seed}"])
        runs.append(train_classifier(config, args.out / f"seed{seed}"))
    accuracies = [r["test"]["scores"]["accuracy"] for r in runs]
    results = runs[0]
    reference = baselines()
    accuracy = float(np.mean(accuracies))
    write_result(
        "sequence_weather",
        metric=f"test accuracy (2015), mean of {args.seeds} seeds: next day's Seattle weather",
        value=round(accuracy, 4),
        unit="fraction",
        baseline={"name": "multinomial logistic regression on the last 7 days",
                  "value": round(reference["logistic_regression_last_7_days"], 4),
                  **{k: (round(v, 4) if isinstance(v, float) else v)
                     for k, v in reference.items()}},
        command=command_line(),
        seconds=time.perf_counter() - started,
        extra={"test_accuracy_per_seed": [round(a, 4) for a in accuracies],
               "test_accuracy_std": round(float(np.std(accuracies)), 4),
               "dev_accuracy_per_seed": [round(r["dev"]["scores"]["accuracy"], 4)
                                         for r in runs],
               "train_seconds_per_seed": [r["train_seconds"] for r in runs],
               "test_seed0": results["test"], "dev_seed0": results["dev"],
               "train_examples": results["train_examples"],
               "epochs_seed0": results["epochs"], "best_epoch_seed0": results["best_epoch"],
               "overrides": overrides,
               "history": results["history"]},
    )
    print(f"test accuracy {accuracy:.4f} (seeds: {accuracies}); baselines {reference}")


if __name__ == "__main__":
    main()
