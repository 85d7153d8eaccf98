"""The dataset registry on the command line: rnnkit datasets list / path, its errors, and a
file's name given as --dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_registry import DATA, DEV, TRAIN, make_mirror, needs_data, toy_spec
from test_registry import isolated as isolated  # noqa: F401  (autouse fixture)

import rnnkit.cli as cli
from rnnkit.commands.datasets import default_split
from rnnkit.data import registry
from rnnkit.data.registry import dataset_file


@pytest.mark.parametrize(("command", "given", "own"), [
    (["train", "tagger", "--dataset"], "my.conllu", "a tagger reads files of your own with "
     "--train, --dev and --test (data.train, data.dev, data.test) and no dataset; its "
     "datasets: ud_english_ewt, uner_english_ewt, wnut17"),
    (["train", "classifier", "--dataset"], "reviews.csv", "a classifier reads files of your "
     "own with --train, --dev and --test (data.train, data.dev, data.test) and no dataset"),
    (["train", "lm", "--dataset"], "data/novel", "a language model reads files of your own "
     "with --file (data.file) and no dataset; its datasets: tinyshakespeare"),
    (["train", "seq2seq", "--dataset"], "corpus/train.de", "a translation model reads files "
     "of your own with --train, --dev and --test, each a file prefix"),
])
def test_a_file_given_as_a_dataset_names_the_flags_for_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], given: str,
        own: str) -> None:
    # said only "unknown dataset 'my.conllu'; known datasets: beijing_pm25, imdb, ..."
    assert cli.main([*command, given, "--print-config"]) == 2
    assert capsys.readouterr().err.startswith(
        f"rnnkit: error: {given!r} is not a registry dataset but a file's name: {own}")


# ---- the command line -------------------------------------------------------------------------

def run(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    if "datasets" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "datasets"))
    return cli.main(argv)


def test_cli_datasets_list_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy_spec(tmp_path / "upstream")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert run(monkeypatch, ["datasets", "list", "--data-dir", str(mirror)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "task", "format", "splits", "license", "found",
                                "homepage"]
    toy = next(line for line in lines if line.startswith("toy "))
    assert "train:1 dev:1" in toy and "mirror" in toy and "https://example.org" in toy
    assert run(monkeypatch, ["datasets", "path", "toy", "--split", "dev",
                             "--data-dir", str(mirror)]) == 0
    assert capsys.readouterr().out == f"{mirror / 'toy_dir' / 'dev.iob'}\n"
    cache = tmp_path / "cache"
    assert run(monkeypatch, ["datasets", "path", "toy", "--cache-dir", str(cache)]) == 0
    assert capsys.readouterr().out.strip() == str(cache / "toy_dir" / "train.iob")


def test_cli_errors_are_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy_spec(tmp_path / "upstream")
    assert run(monkeypatch, ["datasets", "path", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert run(monkeypatch, ["datasets", "path", "toy", "--data-dir", str(tmp_path)]) == 2
    assert "is not in the data mirror" in capsys.readouterr().err
    assert run(monkeypatch, ["datasets", "path", "toy", "--no-download",
                             "--cache-dir", str(tmp_path / "c")]) == 2
    assert "downloading is off" in capsys.readouterr().err
    for action in (["list"], ["path", "toy"]):  # every dataset was listed as not found
        assert run(monkeypatch, ["datasets", *action, "--data-dir", str(tmp_path / "typo")]) == 2
        assert f"--data-dir {tmp_path / 'typo'} is no folder; give the folder of the data " \
            "mirror" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("")
    assert run(monkeypatch, ["datasets", "list", "--cache-dir", str(tmp_path / "a-file")]) == 2
    assert f"--cache-dir {tmp_path / 'a-file'} is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        run(monkeypatch, ["datasets", "--help"])
    assert exit_info.value.code == 0 and "list" in capsys.readouterr().out


def test_a_mirror_from_the_environment_that_is_no_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--data-dir was checked, but a mistyped RNNKIT_DATA listed every dataset as not found
    (exit 0), and a train command said each file was missing from the mirror, as if it were
    only incomplete."""
    toy_spec(tmp_path / "upstream")
    (tmp_path / "a-file").write_text("")
    for mirror, what in ((tmp_path / "typo", "no folder"), (tmp_path / "a-file", "a file")):
        monkeypatch.setenv(registry.DATA_ENV, str(mirror))
        for action in (["list"], ["path", "toy"]):
            assert run(monkeypatch, ["datasets", *action]) == 2
            assert f"RNNKIT_DATA={mirror} is {what}; set it to the folder of the data mirror" \
                in capsys.readouterr().err
        with pytest.raises(FileNotFoundError, match=rf"the data mirror .* \(RNNKIT_DATA\) is "
                                                    rf"{what}.*unset to download"):
            dataset_file("toy", "train")
        with pytest.raises(FileNotFoundError, match=r"\(--data-dir, data.data_dir\) is"):
            dataset_file("toy", "train", mirror=mirror)
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert run(monkeypatch, ["datasets", "list", "--data-dir", str(mirror)]) == 0  # chosen
    assert "toy " in capsys.readouterr().out


def test_a_cache_that_is_a_file_is_refused_naming_its_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """RNNKIT_CACHE naming a file: datasets list said every dataset was not found (exit 0),
    and a download failed with '[Errno 20] Not a directory: <cache>/toy_dir'."""
    toy_spec(tmp_path / "upstream")
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "a-file"))
    assert run(monkeypatch, ["datasets", "list"]) == 2
    assert f"RNNKIT_CACHE {tmp_path / 'a-file'} is a file" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"the download cache .*a-file \(RNNKIT_CACHE\) cannot "
                                         r"hold train.iob: .*a-file is a file, not a folder"):
        dataset_file("toy", "train")
    with pytest.raises(ValueError, match=r"\(--cache-dir\) cannot hold train.iob"):
        dataset_file("toy", "train", cache_dir=tmp_path / "a-file" / "sub")
    mirror = make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    assert run(monkeypatch, ["datasets", "list", "--data-dir", str(mirror)]) == 0  # no cache read
    assert dataset_file("toy", "train", cache_dir=tmp_path / "cache").is_file()


def test_cli_data_dir_under_the_home_folder_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--data-dir=~/mirror (no shell expands ~ after '=') was refused as 'no folder', though
    the registry, and every train command's --data-dir, expand it."""
    toy_spec(tmp_path / "upstream")
    make_mirror(tmp_path / "mirror", {"train.iob": TRAIN, "dev.iob": DEV})
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run(monkeypatch, ["datasets", "path", "toy", "--data-dir=~/mirror"]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'mirror' / 'toy_dir' / 'train.iob'}\n"


@needs_data
def test_cli_path_defaults_to_the_only_split(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert default_split("tinyshakespeare") == "all" and default_split("sst") == "train"
    assert run(monkeypatch, ["datasets", "path", "tinyshakespeare", "--data-dir",
                             str(DATA), "--no-download"]) == 0
    assert capsys.readouterr().out == f"{DATA / 'tinyshakespeare' / 'input.txt'}\n"


def test_cli_path_of_a_pip_dataset_says_it_has_no_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["datasets", "path", "stocks"]) == 2
    assert "stocks installs with pip (bokeh_sampledata) and has no file" in \
        capsys.readouterr().err
