"""``rnnkit train dqn --resume`` (rnnkit.pipelines.dqn_seeds): a run interrupted after some
seeds, or inside a seed's supervised model, ends with the results of a run never stopped."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import rnnkit.pipelines.dqn
import rnnkit.pipelines.stocks
from rnnkit.cli import main
from rnnkit.config import ModelConfig
from rnnkit.models.dqn_agent import DQNAgent
from rnnkit.rl.dqn import DQNOptions, train_dqn
from rnnkit.training.bundle import read_bundle

pytestmark = pytest.mark.filterwarnings(r"ignore:seed \d+. the agent:UserWarning")  # tiny
SETTINGS = ["data.symbol=IBM", "data.train_end=2004-12-31", "data.test_end=2005-06-30",
            "agent.episodes=1", "agent.learning_starts=200", "model.hidden_size=8",
            'run.seeds="0,1,2"']


def train(out: Path, *extra: str) -> int:
    return main(["train", "dqn", "--out", str(out),
                 *[arg for setting in SETTINGS for arg in ("--set", setting)], *extra])


def without_timing(out: Path) -> dict[str, Any]:
    results = json.loads((out / "results.json").read_text())
    del results["seconds"]
    for run in results["runs"]:
        del run["dqn_training"]["seconds"]
    return results


def trained_seeds(monkeypatch: pytest.MonkeyPatch, stop_at: int | None = None) -> list[int]:
    """The seeds whose agent trains from now on; a KeyboardInterrupt as ``stop_at``'s starts."""
    seen: list[int] = []
    original = rnnkit.pipelines.dqn.train_agent

    def recording(periods: Any, config: Any, seed: int, out: Path, log: Any = print,
                  resume: bool = False) -> Any:
        if seed == stop_at:
            raise KeyboardInterrupt
        seen.append(seed)
        return original(periods, config, seed, out, log, resume)

    monkeypatch.setattr(rnnkit.pipelines.dqn, "train_agent", recording)
    return seen


def test_a_run_interrupted_after_two_seeds_resumes_to_the_same_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert train(tmp_path / "whole") == 0
    out = tmp_path / "run"
    seen = trained_seeds(monkeypatch, stop_at=2)
    assert train(out) == 130
    assert seen == [0, 1] and not (out / "results.json").exists()
    assert capsys.readouterr().err.endswith(
        "rnnkit: interrupted; continue with --resume (the same command): the seeds finished "
        "are read back, the one under way goes on after its last finished episode (its "
        "supervised models from their last.pt)\n")
    monkeypatch.undo()
    seen = trained_seeds(monkeypatch)
    assert main(["train", "dqn", "--out", str(out), "--resume"]) == 0  # its config.toml's
    assert seen == [2]  # seeds 0 and 1 read back, not trained again
    printed = capsys.readouterr().out
    assert "seed 0: finished in an earlier run, read back from" in printed
    assert without_timing(out) == without_timing(tmp_path / "whole")  # every number, exactly
    for seed in range(3):  # the same weights and header (in another order: safetensors')
        bundle = f"seed-{seed}/dqn/model.rnnkit"
        (header, weights), (expected, same) = (read_bundle(run / bundle)
                                               for run in (out, tmp_path / "whole"))
        assert header == expected and weights.keys() == same.keys()
        assert all(torch.equal(weights[name], same[name]) for name in weights)
    assert main(["train", "dqn", "--out", str(out), "--resume"]) == 0  # finished: all read
    assert seen == [2] and without_timing(out) == without_timing(tmp_path / "whole")  # back


def test_resume_refuses_changed_settings_and_a_folder_without_a_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    trained_seeds(monkeypatch, stop_at=1)
    assert train(out) == 130
    assert train(out, "--resume", "--set", "agent.lr=0.001") == 2
    assert "--resume: agent.lr (0.0005 -> 0.001) differs from the run in" in \
        capsys.readouterr().err
    assert main(["train", "dqn", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "holds no run to resume (no config.toml)" in capsys.readouterr().err
    (out / "seed-0" / "outcome.pt").write_bytes(b"half")
    assert train(out, "--resume") == 2
    assert "seed-0/outcome.pt cannot be read: it is truncated, or not a seed's outcome; " \
           "delete" in capsys.readouterr().err


def test_an_agent_interrupted_after_an_episode_goes_on_to_the_same_weights_and_record(
        tmp_path: Path) -> None:
    # a recurrent agent with dropout: the torch generator, the replay generator, the buffer,
    # Adam's moments, the target network and the best episode so far all carry over
    from test_rl import alternating_env, tiny_agent

    env, _ = alternating_env(60)
    options = DQNOptions(network="recurrent", episodes=4, learning_starts=30, train_every=1,
                         target_update=40, buffer_size=150, lr=3e-3, batch_size=16)

    def agent() -> DQNAgent:
        torch.manual_seed(0)
        model = tiny_agent("recurrent")  # its scaler, with dropout between two layers
        return DQNAgent("recurrent", ModelConfig(cell="gru", hidden_size=8, num_layers=2,
                                                 dropout=0.3), ["f0"], "f0", 3, model.scaler)

    whole = agent()
    expected = train_dqn(whole, env, options, env, seed=5, log=lambda _: None)

    def stop_after_episode_2(line: str) -> None:
        if line.startswith("episode 2/"):
            raise KeyboardInterrupt

    path = tmp_path / "last.pt"
    with pytest.raises(KeyboardInterrupt):
        train_dqn(agent(), env, options, env, seed=5, log=stop_after_episode_2, checkpoint=path)
    torch.manual_seed(123)  # another process's state: the checkpoint restores it
    lines: list[str] = []
    resumed = agent()
    result = train_dqn(resumed, env, options, env, seed=5, log=lines.append, checkpoint=path,
                       resume=True)
    assert lines[0] == f"resuming after episode 2/4 ({path})" and len(lines) == 3
    assert result.history == expected.history and result.updates == expected.updates
    assert result.best_episode == expected.best_episode
    assert all(torch.equal(a, b) for a, b in zip(resumed.state_dict().values(),
                                                 whole.state_dict().values(), strict=True))


def test_a_run_interrupted_inside_a_seeds_agent_goes_on_after_its_last_episode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    extra = ["--set", "agent.episodes=2", "--set", 'run.seeds="0,1"']
    assert train(tmp_path / "whole", *extra) == 0
    out = tmp_path / "run"
    original = rnnkit.pipelines.dqn.train_agent

    def stopping(periods: Any, config: Any, seed: int, folder: Path, log: Any = print,
                 resume: bool = False) -> Any:
        def hook(line: str) -> None:
            log(line)
            if seed == 1 and line.startswith("episode 1/2") and not resume:
                raise KeyboardInterrupt  # once episode 1's state is saved

        return original(periods, config, seed, folder, hook, resume)

    monkeypatch.setattr(rnnkit.pipelines.dqn, "train_agent", stopping)
    assert train(out, *extra) == 130
    assert (out / "seed-1" / "dqn" / "last.pt").is_file()
    assert not (out / "seed-0" / "dqn" / "last.pt").exists()  # removed once seed 0 was done
    capsys.readouterr()
    assert train(out, *extra, "--resume") == 0
    printed = capsys.readouterr().out
    assert f"seed 1 resuming after episode 1/2 ({out / 'seed-1' / 'dqn' / 'last.pt'})" in printed
    assert "seed 1 episode 1/2" not in printed and "seed 1 episode 2/2" in printed
    assert without_timing(out) == without_timing(tmp_path / "whole")
    assert not (out / "seed-1" / "dqn" / "last.pt").exists()


class CtrlC:
    """A batch source that sends this process SIGINT as the trainer asks for batch ``at`` of
    its first epoch."""

    def __init__(self, inner: Any, at: int) -> None:
        self.inner, self.at = inner, at

    def batches(self, epoch: int) -> Iterator[Any]:
        for index, batch in enumerate(self.inner.batches(epoch)):
            if epoch == 0 and index == self.at:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)
            yield batch

    def __len__(self) -> int:
        return len(self.inner)


def test_ctrl_c_in_a_seeds_supervised_model_resumes_it_from_its_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert train(tmp_path / "whole", "--set", "run.supervised=true") == 0
    out = tmp_path / "run"
    original = rnnkit.pipelines.stocks.train_in_run_dir

    def interrupting(model: Any, config: Any, run: Path, source: Any, *rest: Any,
                     **options: Any) -> Any:
        resume = rest[1] if len(rest) > 1 else options.get("resume", False)
        if run == out / "seed-1" / "signal" and not resume:
            source = CtrlC(source, at=2)  # the first time: Ctrl-C after two optimizer steps
        return original(model, config, run, source, *rest, **options)

    monkeypatch.setattr(rnnkit.pipelines.stocks, "train_in_run_dir", interrupting)
    assert train(out, "--set", "run.supervised=true") == 130
    err = capsys.readouterr().err
    assert "rnnkit: interrupted after optimizer step 2 (in epoch 1, after batch 2); saved " \
           f"{out / 'seed-1' / 'signal' / 'last.pt'}; continue with --resume" in err
    assert not (out / "seed-1" / "outcome.pt").exists()
    forecaster = (out / "seed-1" / "forecaster" / "metrics.jsonl").read_text()
    seen = trained_seeds(monkeypatch)
    assert train(out, "--set", "run.supervised=true", "--resume") == 0
    assert seen == [1, 2]  # seed 0 read back; seed 1's agent after its last episode: done
    assert f"seed 1 resuming after episode 1/1 ({out / 'seed-1' / 'dqn' / 'last.pt'})" in \
        capsys.readouterr().out
    assert (out / "seed-1" / "forecaster" / "metrics.jsonl").read_text() == forecaster  # not
    assert without_timing(out) == without_timing(tmp_path / "whole")  # retrained
