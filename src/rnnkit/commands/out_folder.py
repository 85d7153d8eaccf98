"""Whether a command may write in its ``--out`` folder: not over a config.toml that no run
wrote, a run of another task, an ``rnnkit stocks`` symbol's folder, nor (for ``evaluate``
and ``backtest``) a training run's own files."""

from __future__ import annotations

from pathlib import Path

import tomllib

from rnnkit.commands.paths import same_file
from rnnkit.config import ConfigError, load_config, to_toml


def check_not_stocks_symbol_folder(out: Path, overwrite: str, hint: str) -> None:
    """Refuse an ``--out`` that is a symbol's folder of an ``rnnkit stocks`` run (``RUN/AAPL``):
    it holds ``fold-<year>/`` and the run's results.json and plots but no config.toml, which
    is in its parent. ``overwrite`` says what writing there would replace, ``hint`` what to
    do instead."""
    if (out.parent / "config.toml").is_file() and any(
            fold.is_dir() for fold in out.glob("fold-*")):
        raise ConfigError(f"--out {out} is a symbol's folder of an rnnkit stocks run (it holds "
                          f"fold-<year>/, and {out.parent} the run's config.toml): "
                          f"{overwrite}; {hint}")


def check_written_by_a_run(saved: Path, config: Path | None) -> None:
    """Refuse a fresh run whose ``--out`` holds a ``config.toml`` that no run wrote (its text
    is not :func:`to_toml` of its own values: comments, a layout of one's own): the run would
    replace it with its resolved settings, the ``--config`` it reads (``--config D/config.toml
    --out D``), or a file it does not even read. An earlier run's is replaced, as asked."""
    text = saved.read_text(encoding="utf-8-sig")
    try:
        if to_toml(tomllib.loads(text)) == text:
            return
    except (tomllib.TOMLDecodeError, ConfigError, AttributeError):
        pass  # not TOML (load_config says so), or not as a run writes it
    folder = saved.parent.resolve()  # --out . has no name of its own
    keep = folder.with_name(f"{folder.name}.toml") if folder.name else Path("/my-config.toml")
    read = (f"the --config {config}, " if config is not None and same_file(config, saved)
            else "")
    unread = "" if read else "; and no --config reads it"
    raise ConfigError(f"--out {saved.parent} holds a config.toml that no run wrote ({read}with "
                      f"comments or a layout of its own{unread}), which this run would replace "
                      f"with its resolved settings; move it out of the folder (e.g. to {keep}) "
                      "and give it as --config, or give another --out")


def check_same_task(config_type: type, out: Path) -> None:
    """Refuse a fresh run in an ``--out`` that holds a run of another task (its config.toml
    does not read as this task's): starting, the run removes the bundle, checkpoints and
    results it finds there (a run of the same task is replaced, as asked)."""
    try:
        load_config(config_type, out / "config.toml", check=False)
    except ConfigError as error:
        first = str(error).split(";")[0]  # not the list of this task's valid keys
        raise ConfigError(f"--out {out} holds a run of another task (its config.toml does not "
                          f"read as one of this task: {first}); this run would delete its "
                          "model.rnnkit and checkpoints: give another --out") from None


def check_not_a_run(out: Path, command: str) -> None:
    """Refuse an ``--out`` of ``rnnkit evaluate`` or ``backtest`` that is a training run's
    folder (it holds config.toml), or a symbol's folder of an ``rnnkit stocks`` run (it holds
    ``fold-<year>/``; the run's config.toml is in its parent): the results.json, plots and
    predictions they write there would replace the run's own, under the same names."""
    files = OUTPUT_FILES.get(command, "results.json, plots")
    overwrite = f"rnnkit {command} would write its files ({files}) over the run's own"
    hint = f"give another folder, e.g. {out / command}"
    if (out / "config.toml").is_file():
        raise ConfigError(f"--out {out} is a training run's folder (it holds config.toml): "
                          f"{overwrite}; {hint}")
    check_not_stocks_symbol_folder(out, overwrite, hint)


# what ``rnnkit backtest`` writes in its --out (a signal run's folder has the two plots too)
OUTPUT_FILES = {"backtest": "backtest.json, equity.png, drawdown.png"}
