"""``rnnkit stocks``'s run folders: interrupted and resumed walk-forwards, the fold runs a fresh run
clears, and each fold's bundles backtested and evaluated on the days its run traded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rnnkit.cli
import rnnkit.pipelines.stocks


def test_an_interrupted_walk_forward_resumes_to_the_same_results(tmp_path: Path) -> None:
    def run(out: Path, *extra: str) -> dict:
        args = ["stocks", "--symbols", "IBM", "--out", str(out), *extra]
        for item in ("data.first_test_year=2013", "data.lookback=20", "model.hidden_size=8",
                     "train.epochs=2", "train.threads=1"):
            args += ["--set", item]
        assert rnnkit.cli.main(args) == 0
        scores = json.loads((out / "IBM" / "results.json").read_text())
        return {key: value for key, value in scores.items() if key != "seconds"}

    straight = run(tmp_path / "straight")
    run(tmp_path / "resumed", "--set", "train.max_steps=5")  # each fold model stops at step 5
    # resumed, the run's own settings hold (max_steps=5) until --set lifts them
    assert run(tmp_path / "resumed", "--resume", "--set", "train.max_steps=0") == straight
    best = tmp_path / "straight" / "IBM" / "fold-2013" / "signal" / "best.pt"
    written = best.stat().st_mtime_ns
    assert run(tmp_path / "straight", "--resume") == straight
    assert best.stat().st_mtime_ns == written  # a finished fold is read back, not trained again


def test_ctrl_c_inside_a_fold_saves_its_model_and_the_walk_forward_resumes_to_the_same_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C (a real SIGINT) while fold 2013's forecaster trains its 2nd epoch: the trainer
    saves the fold model's last.pt after its batch 2 and the command stops (130); --resume
    reads fold 2012 back and goes on from that step."""
    import os
    import signal

    from rnnkit.training.checkpoint import load_checkpoint

    def run(out: Path, *extra: str, code: int = 0) -> dict:
        args = ["stocks", "--symbols", "IBM", "--out", str(out), *extra]
        for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=4",
                     "train.epochs=2", "train.threads=1"):
            args += ["--set", item]
        assert rnnkit.cli.main(args) == code
        return json.loads((out / "IBM" / "results.json").read_text()) if not code else {}

    class CtrlC:  # sends SIGINT as the trainer asks for batch 2 of epoch 2
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def batches(self, epoch: int):  # noqa: ANN202
            for index, batch in enumerate(self.inner.batches(epoch)):
                if (epoch, index) == (1, 2):
                    os.kill(os.getpid(), signal.SIGINT)
                yield batch

        def __len__(self) -> int:
            return len(self.inner)

    straight = run(tmp_path / "straight")
    train_in_run_dir = rnnkit.pipelines.stocks.train_in_run_dir

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if args[2].parts[-2:] == ("fold-2013", "forecaster"):
            args = (*args[:3], CtrlC(args[3]), *args[4:])
        return train_in_run_dir(*args, **kwargs)

    monkeypatch.setattr(rnnkit.pipelines.stocks, "train_in_run_dir", interrupted)
    out = tmp_path / "resumed"
    capsys.readouterr()
    run(out, code=130)
    checkpoint = out / "IBM" / "fold-2013" / "forecaster" / "last.pt"
    state = load_checkpoint(checkpoint)
    assert (state["epoch"], state["batch_in_epoch"]) == (1, 2)
    assert capsys.readouterr().err.endswith(f"(in epoch 2, after batch 2); saved {checkpoint};"
                                            " continue with --resume (the same command)\n")
    monkeypatch.setattr(rnnkit.pipelines.stocks, "train_in_run_dir", train_in_run_dir)
    resumed = run(out, "--resume")
    assert [resumed[key] for key in ("forecast", "backtest")] == [
        straight[key] for key in ("forecast", "backtest")]


def test_a_fresh_run_killed_early_resumes_without_an_older_run_s_folds(tmp_path: Path,
                                                                      monkeypatch) -> None:
    def run(out: Path, *extra: str, code: int = 0) -> dict:
        args = ["stocks", "--symbols", "IBM", "--out", str(out), *extra]
        for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=4",
                     "train.threads=1"):
            args += ["--set", item]
        assert rnnkit.cli.main(args) == code
        return json.loads((out / "IBM" / "results.json").read_text()) if not code else {}

    straight = run(tmp_path / "straight", "--set", "train.epochs=1")
    out = tmp_path / "again"
    run(out, "--set", "train.epochs=3")  # an earlier run in the folder, with other settings
    fit_fold = rnnkit.pipelines.stocks.fit_fold

    def killed_in_the_second_fold(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if args[2].name == "fold-2013":
            raise KeyboardInterrupt
        return fit_fold(*args, **kwargs)

    monkeypatch.setattr(rnnkit.pipelines.stocks, "fit_fold", killed_in_the_second_fold)
    run(out, "--set", "train.epochs=1", code=130)  # a fresh run, stopped before fold 2013
    monkeypatch.setattr(rnnkit.pipelines.stocks, "fit_fold", fit_fold)
    resumed = run(out, "--resume")  # fold 2013 trains now: the older run's is not read back
    assert [resumed[key] for key in ("forecast", "backtest")] == [
        straight[key] for key in ("forecast", "backtest")]


def test_a_fresh_run_clears_only_the_fold_runs_rnnkit_trains(tmp_path: Path) -> None:
    from rnnkit.pipelines.stocks_job import clear_folds

    files = {"fold-2019/forecaster/config.toml": True, "fold-2019/forecaster/best.pt": True,
             "fold-2019/forecaster/.last.pt.x1.tmp": True, "fold-2020/signal/config.toml": True,
             "fold-2020/signal/notes.txt": False,  # a file of one's own in a fold run stays
             "fold-2019/mine/config.toml": False, "fold-2019/mine/results.json": False,
             "fold-2019/mine/model.rnnkit": False,  # a folder of one's own: not rnnkit's run
             "results.json": False}
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    clear_folds(tmp_path)
    assert {name: not (tmp_path / name).exists() for name in files} == files
    assert not (tmp_path / "fold-2019" / "forecaster").exists()  # emptied, so removed


def test_a_fold_bundle_backtests_its_own_year_as_its_run_traded(tmp_path: Path,
                                                                capsys) -> None:
    args = ["stocks", "--symbols", "IBM", "--out", str(tmp_path)]
    for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=8",
                 "train.epochs=1", "train.threads=1", "trading.mode=long_short"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    capsys.readouterr()
    bundle = tmp_path / "IBM" / "fold-2012" / "forecaster" / "model.rnnkit"
    assert rnnkit.cli.main(["backtest", "--model", str(bundle), "--out",
                            str(tmp_path / "bt")]) == 0
    summary = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert summary["first_decision"][:4] == summary["last_decision"][:4] == "2012"
    assert summary["options"]["mode"] == "long_short" and not summary["in_sample"]


def test_a_fold_bundle_is_evaluated_on_the_days_its_run_traded(tmp_path: Path,
                                                              capsys) -> None:
    """rnnkit evaluate of a fold's bundle scored every day from its fold to the data's end
    (2012 and 2013 here, where the 2013 fold's models decided 2013), while rnnkit backtest of
    the same bundle traded its fold's days only: the two disagreed on the model's test
    period. Both now read the bundle's test_end."""
    args = ["stocks", "--symbols", "IBM", "--out", str(tmp_path / "run")]
    for item in ("data.first_test_year=2012", "data.lookback=20", "model.hidden_size=8",
                 "train.epochs=1", "train.threads=1", "trading.mode=long_short"):
        args += ["--set", item]
    assert rnnkit.cli.main(args) == 0
    scores = json.loads((tmp_path / "run" / "IBM" / "results.json").read_text())
    days_2012 = scores["folds"][0]["test"]
    assert scores["folds"][0]["year"] == 2012 and days_2012 < scores["test_days"]
    fold = tmp_path / "run" / "IBM" / "fold-2012"
    assert rnnkit.cli.main(["backtest", "--model", str(fold / "signal" / "model.rnnkit"),
                            "--out", str(tmp_path / "bt")]) == 0
    traded = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    for name in ("signal", "forecaster"):
        assert rnnkit.cli.main(["evaluate", "--model", str(fold / name / "model.rnnkit"),
                                "--out", str(tmp_path / f"eval-{name}")]) == 0
        scored = json.loads((tmp_path / f"eval-{name}" / "results.json").read_text())
        assert (scored["first_decision"][:10], scored["last_decision"][:10]) == (
            traded["first_decision"][:10], traded["last_decision"][:10]), name
    capsys.readouterr()
    signal = json.loads((tmp_path / "eval-signal" / "results.json").read_text())
    assert sum(signal["label_counts"]) == days_2012
    assert signal["backtest"]["model"] == pytest.approx(traded["reports"]["model"], rel=1e-12)
