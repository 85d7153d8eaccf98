"""The command line: input and output files and folders, named when they are wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import TINY

from rnnkit.cli import main


def test_a_missing_input_file_is_named(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["train", "classifier", "--train", str(missing), "--out",
                 str(tmp_path / "run")]) == 2
    assert (f"data.train (--train) {missing}: no such file; give the path of an existing file"
            in capsys.readouterr().err)  # and the setting (was 'no such file or folder: ...')


def test_unreadable_inputs_are_named_in_one_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "reviews.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    args = ["train", "classifier", "--dev", str(png), "--out", str(tmp_path / "run")]
    assert main([*args, "--train", str(png)]) == 2
    assert f"{png}:1: not UTF-8 text" in capsys.readouterr().err  # the file and line
    fake = tmp_path / "reviews.jsonl.gz"
    fake.write_text('{"text": "good", "label": "pos"}\n')
    assert main(["train", "classifier", "--train", str(fake), "--dev", str(fake), "--out",
                 str(tmp_path / "run")]) == 2
    assert f"{fake}: not gzip data" in capsys.readouterr().err  # the file, named
    out = tmp_path / "synthetic"
    assert main(["train", "synthetic", *TINY, "--set", "train.epochs=1", "--out",
                 str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out)]) == 2
    assert f"is a folder, not a model bundle; its bundle is {out / 'model.rnnkit'}" in \
        capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["train", "synthetic", *TINY], ["evaluate", "--model", "model.rnnkit"],
    ["backtest", "--model", "model.rnnkit"], ["diagnose"], ["stocks"],
])
def test_an_out_that_is_a_file_is_refused_naming_out(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """mkdir said '[Errno 17] File exists: ...' (and only once the work was done)."""
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    assert main([*command, "--out", str(afile)]) == 2
    assert capsys.readouterr().err == (f"rnnkit: error: --out {afile} is a file, but --out names "
                                       "a folder (made if missing); give a folder's path, or "
                                       "move the file away\n")
    assert main([*command, "--out", str(afile / "run")]) == 2
    assert f"--out {afile / 'run'}: {afile} is a file, not a folder" in capsys.readouterr().err
    assert afile.read_text() == "mine\n"


@pytest.mark.parametrize("command", [
    ["train", "synthetic", *TINY], ["evaluate", "--model", "model.rnnkit"],
    ["backtest", "--model", "model.rnnkit"], ["diagnose"], ["stocks"],
])
@pytest.mark.parametrize("out", [["--out", ""], ["--out="], ["--ou", ""], ["--ou="],
                                 ["--out", "x", "--ou", ""]])
def test_an_empty_out_is_refused_not_read_as_the_current_folder(
        command: list[str], out: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--out "$RUN" with RUN unset trained (or wrote) in the current folder, as --out .; an
    abbreviation that argparse accepts (--ou "") slipped past the check."""
    monkeypatch.chdir(tmp_path)
    assert main([*command, *out]) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: --out is empty (an unset shell variable?), which would write in the "
        "current folder; give a folder (--out . for the current one), or leave --out out for "
        "the default\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["evaluate", "backtest"])
def test_a_run_folder_as_out_of_evaluate_or_backtest_is_refused(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evaluate --out RUN wrote its results.json (and plots) over the training run's own."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("[train]\n")
    (run / "results.json").write_text('{"epochs": 10}\n')
    assert main([command, "--model", str(run / "model.rnnkit"), "--out", str(run)]) == 2
    files = {"evaluate": "results.json, plots",  # backtest's are its own: no results.json
             "backtest": "backtest.json, equity.png, drawdown.png"}[command]
    assert capsys.readouterr().err == (
        f"rnnkit: error: --out {run} is a training run's folder (it holds config.toml): rnnkit "
        f"{command} would write its files ({files}) over the run's own; give "
        f"another folder, e.g. {run / command}\n")
    assert (run / "results.json").read_text() == '{"epochs": 10}\n'


@pytest.mark.parametrize("command", ["evaluate", "backtest"])
def test_a_stocks_symbol_folder_as_out_of_evaluate_or_backtest_is_refused(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """backtest --model runs/demo/AAPL/fold-2013/signal/model.rnnkit --out runs/demo/AAPL
    wrote equity.png and drawdown.png (evaluate: results.json) over the walk-forward run's own:
    a symbol's folder holds no config.toml, its run's parent does."""
    run = tmp_path / "stocks"
    symbol = run / "AAPL"
    (symbol / "fold-2013" / "signal").mkdir(parents=True)
    (run / "config.toml").write_text("[data]\n")
    (symbol / "results.json").write_text('{"symbol": "AAPL"}\n')
    model = symbol / "fold-2013" / "signal" / "model.rnnkit"
    assert main([command, "--model", str(model), "--out", str(symbol)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnnkit: error: --out {symbol} is a symbol's folder of an rnnkit "
                          "stocks run")
    assert f"give another folder, e.g. {symbol / command}\n" in err
    assert (symbol / "results.json").read_text() == '{"symbol": "AAPL"}\n'
    # a folder of one's own beside the run's config.toml, holding no fold, is not refused
    other = run / "mine"
    other.mkdir()
    assert main([command, "--model", str(model), "--out", str(other)]) != 0
    assert "symbol's folder" not in capsys.readouterr().err


def test_an_output_under_a_file_is_refused_naming_output(tmp_path: Path) -> None:
    from rnnkit.commands.paths import make_parent
    from rnnkit.config import ConfigError

    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    with pytest.raises(ConfigError, match=f"--output {afile / 'x.json'}: {afile} is a file, not "
                                          "a folder, so nothing can be written in it; give "
                                          "--output a path in a folder"):
        make_parent(afile / "x.json")
    with pytest.raises(ConfigError, match=f"{afile} is a file, not a folder"):
        make_parent(afile / "deeper" / "x.json")
    make_parent(tmp_path / "new" / "x.json")
    assert (tmp_path / "new").is_dir()


@pytest.mark.parametrize("command", ["predict", "translate", "forecast"])
def test_an_output_that_is_a_folder_is_refused_before_the_model_loads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    # the model does not exist: the --output error comes first, as no work is spent on it
    folder = tmp_path / "out.csv"
    folder.mkdir()
    missing = tmp_path / "missing.rnnkit"
    assert main([command, "--model", str(missing), "--output", str(folder)]) == 2
    assert capsys.readouterr().err == (f"rnnkit: error: --output {folder} is a folder; give "
                                       f"the file to write, e.g. {folder / 'predictions.csv'}\n")


@pytest.mark.parametrize(("command", "flag"), [
    ("predict", "--input"), ("translate", "--input"), ("forecast", "--data"),
    ("predict", "--model"), ("forecast", "--model"),
])
def test_an_output_that_is_the_input_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, flag: str) -> None:
    """The input was read whole, then overwritten (a tagged file's gold tags lost)."""
    given = tmp_path / "given.csv"
    given.write_text("date,value\n")
    model = given if flag == "--model" else tmp_path / "missing.rnnkit"
    extra = [] if flag == "--model" else [flag, str(given)]
    assert main([command, "--model", str(model), *extra, "--output",
                 str(tmp_path / "x" / ".." / "given.csv")]) == 2
    assert f"is the {flag} file: the output would be written over it" in capsys.readouterr().err
    assert given.read_text() == "date,value\n"


@pytest.mark.parametrize("flag", ["--input", "--output", "--model"])
def test_translate_refuses_an_attention_plot_that_is_its_input_or_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    """--attention-plot was drawn over the --output translations (or the --input lines, the
    bundle) it named too, once the translating was done; now refused before the model loads
    (it does not exist here)."""
    given = tmp_path / "given.png"
    given.write_text("mine\n")
    model = given if flag == "--model" else tmp_path / "missing.rnnkit"
    extra = [] if flag == "--model" else [flag, str(given)]
    assert main(["translate", "--model", str(model), *extra, "--attention-plot",
                 str(tmp_path / "x" / ".." / "given.png")]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: --attention-plot {tmp_path / 'x' / '..' / 'given.png'} is the {flag} "
        "file: the output would be written over it; give --attention-plot another file, e.g. "
        f"{tmp_path / 'x' / '..' / 'attention.png'}\n")
    assert given.read_text() == "mine\n"


def tiny_bundle(kind: str, path: Path) -> Path:
    """A small untrained model of ``kind`` saved as a bundle."""
    from rnnkit.config import ModelConfig
    from rnnkit.data.text_stream import build_stream_vocab
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
    from rnnkit.models.language_model import LanguageModel, LMConfig
    from rnnkit.models.tagger import Tagger, TaggerConfig
    from rnnkit.training.bundle import save_bundle

    encoder = ModelConfig(hidden_size=4)
    words = Vocab.build([["fine", "bad"]])
    model = {
        "classifier": lambda: SequenceClassifier(["neg", "pos"], ClassifierConfig(word_dim=4),
                                                 encoder, words),
        "tagger": lambda: Tagger(words, Vocab.build([list("finebad")]),
                                 Vocab.build([["ADJ"]], unknown=False),
                                 TaggerConfig(word_dim=4, char_dim=2, char_hidden=2), encoder,
                                 data={"format": "conllu", "column": "upos", "scheme": "none"}),
        "language_model": lambda: LanguageModel(build_stream_vocab(list("fine bad\n"), "char"),
                                                LMConfig(embedding_dim=4), encoder),
    }[kind]()
    return save_bundle(model, path)


@pytest.mark.parametrize(("kind", "name", "text", "flags"), [
    ("classifier", "test.json", '{"text": "fine", "label": "pos"}\n', ["--format", "jsonl"]),
    ("tagger", "test.predictions.conllu", "1\tfine\t_\tADJ\t_\t_\t_\t_\t_\t_\n\n", []),
    ("language_model", "evaluation.json", "fine bad fine\n" * 20, []),
])
def test_evaluate_refuses_an_out_where_it_would_write_over_the_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, name: str, text: str,
        flags: list[str]) -> None:
    """evaluate --data d/test.json --out d wrote a classifier's scores over its test data (a
    tagger's predictions over test.predictions.conllu, a language model's evaluation.json)."""
    model = tiny_bundle(kind, tmp_path / "model.rnnkit")
    folder = tmp_path / "data"
    folder.mkdir()
    data = folder / name
    data.write_text(text)
    assert main(["evaluate", "--model", str(model), "--data", str(data), *flags,
                 "--out", str(folder)]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: --out {folder}: rnnkit evaluate writes its {name} there, which is the "
        f"--data file {data}: the {kind} model's scores would be written over the data; give "
        f"--out another folder, e.g. {folder / 'evaluation'}\n")
    assert data.read_text() == text
    assert sorted(path.name for path in folder.iterdir()) == [name]
    kept = data.rename(folder / f"held_out{data.suffix}")  # another name: evaluated there
    assert main(["evaluate", "--model", str(model), "--data", str(kept), *flags,
                 "--out", str(folder)]) == 0
    assert kept.read_text() == text and (folder / name).is_file()


@pytest.mark.parametrize("given", ["in.txt", "-"])
def test_predict_refuses_text_and_input_together(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str) -> None:
    """--text was used and the --input file silently not read; refused before the model loads
    (it does not exist here)."""
    assert main(["predict", "--model", str(tmp_path / "missing.rnnkit"), "--text", "a b",
                 "--input", given]) == 2
    assert f"--text and --input {given} both give the input; give one of them" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("command", "key"), [
    (["train", "tagger", "--format", "conllu", "--train"], "train"),  # no dataset: a format
    (["train", "lm", "--file"], "file"),
    (["train", "lm", "--data-dir"], "data_dir"),
])
def test_a_flag_s_path_with_a_character_beyond_the_bmp_is_read_as_given(
        command: list[str], key: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--train '\U0001F600 "x".conllu' became the setting '"\\ud83d\\ude00 \\"x\\".conllu"',
    quotes and escapes included, so the file was not found."""
    import tomllib

    path = 'runs/\U0001F600 "x".conllu'
    assert main([*command, path, "--print-config"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["data"][key] == path


@pytest.mark.parametrize("command", [["evaluate"], ["predict", "--text", "x"]])
def test_evaluate_or_predict_of_a_newer_rnnkit_s_model_kind_says_to_upgrade(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It said only "cannot handle 'transformer' models yet"."""
    from safetensors.torch import save_file

    from rnnkit.config import ModelConfig
    from rnnkit.models.synthetic import SyntheticTaskModel
    from rnnkit.training.bundle import read_bundle, save_bundle

    path = save_bundle(SyntheticTaskModel("adding", ModelConfig(hidden_size=4)),
                       tmp_path / "m.rnnkit")
    metadata, tensors = read_bundle(path)
    save_file(tensors, str(path), metadata={**metadata, "kind": "transformer",
                                            "rnnkit_version": "0.9.0"})
    assert main([command[0], "--model", str(path), *command[1:]]) == 2
    assert "cannot handle 'transformer' models yet" in (err := capsys.readouterr().err)
    assert f"{path} holds a 'transformer' model" in err  # which file: it said none
    assert "written by rnnkit 0.9.0, newer than this one (0.1.0): upgrade rnnkit" in err


def test_a_path_flag_written_with_an_equals_sign_expands_the_home_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The shell leaves ~ in --config=~/run.toml and --out=~/runs/x: the file did not exist,
    and the run folder was made under a folder named ~ in the current one."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text("[train]\nepochs = 3\n", encoding="utf-8")
    assert main(["train", "synthetic", "--config=~/run.toml", "--print-config"]) == 0
    assert "epochs = 3" in capsys.readouterr().out
    assert main(["train", "synthetic", "--out=~/runs/x", "--resume", "--print-config"]) == 2
    assert f"{tmp_path / 'runs' / 'x'} holds no run" in capsys.readouterr().err
