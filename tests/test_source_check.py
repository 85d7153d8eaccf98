"""One check, and one message, for a time-series source: data.source (the settings, and the
input check before a run) and --data (forecast, backtest, evaluate)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from rnnkit.commands.common import check_source as check_flag
from rnnkit.commands.inputs import check_series_input
from rnnkit.config import ConfigError
from rnnkit.pipelines.source_config import check_source

CHECKS: dict[str, Callable[[str], None]] = {
    "--data": lambda source: check_flag(source, "--data"),
    "data.source": lambda source: check_source(source, must_exist=False),  # --print-config
    "input": lambda source: check_series_input(SimpleNamespace(
        data=SimpleNamespace(source=source))),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("sources")
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=3), "x": [1.0, 2, 3]})
    frame.to_csv(folder / "s.csv", index=False)
    frame.to_csv(folder / "s.csv.gz", index=False)
    frame.to_csv(folder / "s.tsv", index=False, sep="\t")
    frame.to_parquet(folder / "s.parquet")
    (folder / "parts.parquet").mkdir()
    frame.to_parquet(folder / "parts.parquet" / "part-0.parquet")
    return [str(folder / name) for name in ("s.csv", "s.csv.gz", "s.tsv", "s.parquet",
                                            "parts.parquet")]


@pytest.mark.parametrize("check", CHECKS)
def test_no_valid_source_is_refused(check: str, files: list[str]) -> None:
    for source in ["beijing", "Seattle", "BEIJING", "AAPL", "msft", "ibm", "GOOG", "fb", *files]:
        CHECKS[check](source)


@pytest.mark.parametrize("check", CHECKS)
def test_an_unknown_source_gets_the_one_message(check: str, tmp_path: Path) -> None:
    key = "--data" if check == "--data" else "data.source"
    for source in ("APPL", "seatle"):
        with pytest.raises(ConfigError) as error:
            CHECKS[check](source)
        assert str(error.value) == (
            f"{key} {source!r} is neither a source (beijing, seattle, AAPL, IBM, MSFT, GOOG) nor"
            " an existing CSV/Parquet file (or Parquet folder); give one of those, or the path "
            "of an existing file")
    missing = str(tmp_path / "missing.csv")
    if check == "data.source":  # the settings name a file that need not be there yet
        CHECKS[check](missing)
    else:
        with pytest.raises(ConfigError, match=f"{key} '.*missing.csv' is neither a source"):
            CHECKS[check](missing)


@pytest.mark.parametrize("source", ["", "  "])
@pytest.mark.parametrize("check", ["settings", "input"])
def test_an_empty_data_source_is_refused_by_name(check: str, source: str) -> None:
    """An empty data.source named the current folder: '. is a folder that holds no data
    files'. The settings' check (train forecaster/signal, --print-config too) and the input
    check refuse it as empty, naming the setting; an empty --data is none given."""
    checks = {**CHECKS, "settings": lambda source: check_source(source, must_exist=False,
                                                                 required=True)}
    with pytest.raises(ConfigError, match=r"^data\.source is empty: give a source \(beijing"):
        checks[check](source)
    CHECKS["--data"](source.strip())  # the model's own data: no error
