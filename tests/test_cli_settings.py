"""The command line: bad settings and flags are refused before any work, naming them."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import TINY

from rnnkit.cli import main


def test_unknown_key_lists_valid_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", "--set", "train.lrr=0.1"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'train.lrr'" in err and "train.lr," in err


def test_bad_values_are_errors_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "synthetic", "--set", "model.cell=transformer", "--out",
                 str(tmp_path)]) == 2
    assert "model.cell must be one of rnn, lstm, gru" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tmp_path / "missing.rnnkit")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["train_size", "val_size", "test_size"])
def test_empty_synthetic_splits_are_refused_before_training(
    size: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "synthetic", *TINY, "--set", f"data.{size}=0", "--out", str(out)]) == 2
    assert f"data.{size} must be at least 1; got 0" in capsys.readouterr().err
    assert not (out / "model.rnnkit").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--size", "0"], "--size must be at least 1; got 0"),  # scored the run's own test size
    (["--size", "-3"], "--size must be at least 1; got -3"),  # a torch traceback
    (["--length", "0"], "--length must be at least 1; got 0"),  # scored the training length
    (["--data", "imdb", "--split", "train"], "--data, --split do not apply; use --size"),
    (["--format", "csv"], "--format does not apply; use --size"),
    (["--size", str(2**70)], "--size must be a whole number below 2**63"),  # a traceback:
    (["--length", str(2**70)], "--length must be a whole number below 2**63"),  # 'Overflow
])  # when unpacking long long'
def test_evaluate_synthetic_refuses_bad_sizes(flags: list[str], message: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.config import ModelConfig
    from rnnkit.models.synthetic import SyntheticTaskModel
    from rnnkit.training.bundle import save_bundle

    bundle = tmp_path / "model.rnnkit"
    save_bundle(SyntheticTaskModel("adding", ModelConfig(hidden_size=4)), bundle)
    assert main(["evaluate", "--model", str(bundle), *flags]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "flags", "message"), [
    ("classifier", ["--size", "500"], "rnnkit evaluate reads --size only for a synthetic "
                                      "model, and {model} is a classifier model; leave --size"),
    ("classifier", ["--length", "5"], "reads --length only for a synthetic model"),
    ("classifier", ["--date-column", "day"], "reads --date-column only for a forecaster or "
                                             "signal model"),
    ("synthetic", ["--data-dir", "mirror"], "reads --data-dir only for a forecaster or signal "
                                            "or tagger or classifier or seq2seq model"),
    ("classifier", ["--split", "dev"], "--split picks from a registry dataset, and --data "
                                       "{data} is none (a file is read whole); leave it out"),
    ("classifier", ["--split", "dev", "--data-dir", "mirror"], "--split and --data-dir pick "
                                                               "from a registry dataset"),
    # a tagger ignored it, a classifier read SST's trees as the format given
    ("classifier", ["--data", "sst", "--format", "text"], "--format says how to read a --data "
                                                          "file, and --data sst is a registry"),
])
def test_evaluate_refuses_a_flag_the_model_would_ignore(
        kind: str, flags: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--size 500 on a classifier, or --split dev with a file, scored as if never given."""
    from rnnkit.config import ModelConfig
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.classifier import ClassifierConfig, SequenceClassifier
    from rnnkit.models.synthetic import SyntheticTaskModel
    from rnnkit.training.bundle import save_bundle

    bundle, data = tmp_path / "model.rnnkit", tmp_path / "test.jsonl"
    data.write_text('{"text": "fine", "label": "pos"}\n')
    encoder = ModelConfig(hidden_size=4)
    save_bundle(SyntheticTaskModel("adding", encoder) if kind == "synthetic" else
                SequenceClassifier(["neg", "pos"], ClassifierConfig(word_dim=4), encoder,
                                   Vocab.build([["fine"]])), bundle)
    given = ["--data", str(data)] if kind == "classifier" else []
    assert main(["evaluate", "--model", str(bundle), *given, *flags]) == 2
    assert message.format(model=bundle, data=data) in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--length", "0"], "--length must be at least 2; got 0"),
    (["--task", "copy", "--length", "0"], "--length must be at least 1; got 0"),
    (["--steps", "0"], "--steps must be at least 1; got 0"),
    (["--hidden-size", "0"], "--hidden-size must be at least 1; got 0"),
    (["--cells", "lstm,transformer"], "--cells must be some of rnn, lstm, gru"),
    # the empty name was skipped: a typo, and 'rnn,,' alone ran the whole default demonstration
    (["--cells", "rnn,,lstm"], "--cells must be some of rnn, lstm, gru separated by commas, "
                              "e.g. lstm,gru; got 'rnn,,lstm'"),
    # the second gru trained the same model again: summary.json kept one, the tables had two
    (["--cells", "gru, lstm,gru", "--length", "2"], "--cells repeats gru: every cell trains"),
    # -1 trained as torch took it; 2**70 failed with 'Overflow when unpacking long long'
    (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295; got -1"),
    (["--seed", str(2**70)], "--seed must be a whole number from 0 to 4294967295"),
])
def test_diagnose_names_its_flags_before_training(flags: list[str], message: str,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "diagnose"
    assert main(["diagnose", "--steps", "1", "--hidden-size", "2", "--out", str(out),
                 *flags]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("command", ["predict", "translate", "forecast"])
def test_a_refused_command_leaves_no_output_folder(tmp_path: Path, command: str) -> None:
    # --output is checked before the model loads, but its folder is made only to write in
    output = tmp_path / "new" / "deeper" / "out.csv"
    assert main([command, "--model", str(tmp_path / "missing.rnnkit"), "--output",
                 str(output)]) == 2
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("command", "setting", "message"), [
    (["train", "synthetic"], "model.num_layers=0", "model.num_layers must be at least 1; got 0"),
    (["train", "tagger"], "model.hidden_size=0", "model.hidden_size must be at least 1; got 0"),
    (["train", "tagger"], "model.dropout=1.5", "model.dropout must be at least 0 and below 1"),
    (["train", "classifier"], "model.num_layers=0", "model.num_layers must be at least 1"),
    (["train", "lm"], "model.hidden_size=0", "model.hidden_size must be at least 1; got 0"),
    (["train", "seq2seq"], "model.recurrent_dropout=1",
     "model.recurrent_dropout must be at least 0 and below 1"),
    (["train", "forecaster"], "model.hidden_size=0", "model.hidden_size must be at least 1"),
    (["train", "signal"], "model.num_layers=0", "model.num_layers must be at least 1; got 0"),
    (["stocks"], "model.hidden_size=0", "model.hidden_size must be at least 1; got 0"),
    (["train", "lm"], "lm.hidden_dropout=1.5", "lm.hidden_dropout must be at least 0 and below 1"),
    (["train", "seq2seq"], "seq2seq.label_smoothing=1.5",
     "seq2seq.label_smoothing must be at least 0 and below 1"),
    (["train", "tagger"], "tagger.word_dropout=1.5", "tagger.word_dropout must be at least 0"),
    (["train", "classifier"], "classifier.word_dim=0", "classifier.word_dim must be at least 1"),
    (["train", "synthetic"], "train.epochs=0", "train.epochs must be at least 1; got 0"),
    (["train", "synthetic"], "data.length=0", "data.length must be at least 2; got 0"),
    (["train", "synthetic"], "data.task=cpy", "data.task must be one of adding, copy; got 'cpy'"),
    (["train", "forecaster"], "train.optimizer=adamm",
     "train.optimizer must be one of adam, adamw, sgd; got 'adamm'"),
    (["train", "signal"], "train.batch_size=0", "train.batch_size must be at least 1; got 0"),
    (["train", "lm"], "train.lr=-1", "train.lr must be a finite number above 0; got -1.0"),
])
def test_training_names_a_bad_setting_before_any_work(
        command: list[str], setting: str, message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The layers' own errors name no key ('LSTMCell: hidden_size must be a positive int'),
    and a dropout of 1.5 on one layer trained without a word."""
    out = tmp_path / "run"
    assert main([*command, "--out", str(out), "--set", "train.threads=1", "--set", setting]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # refused before the data was read or the run folder made


@pytest.mark.parametrize("count", ["0", "-2"])
def test_nproc_below_one_is_refused(count: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", *TINY, "--nproc", count]) == 2
    assert f"--nproc must be at least 1 (the processes to train in), got {count}" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("setting", "message"), [
    ("train.lr=inf", "train.lr must be a finite number"),
    ("train.momentum=nan", "train.momentum must be a finite number; got nan"),
    ("train.clip_norm=nan", "train.clip_norm must be a finite number; got nan"),
    ("train.threads=100000", "train.threads 100000 is far more than this machine's"),
])
def test_non_finite_or_absurd_settings_are_refused_before_training(
    setting: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "synthetic", *TINY, "--set", setting, "--out",
                 str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.pt").exists()


@pytest.mark.parametrize(("command", "setting", "key"), [
    (["train", "forecaster"], 'data.features=["temp"]', "data.features"),
    (["train", "forecaster"], "forecast.quantiles=[0.1,0.5,0.9]", "forecast.quantiles"),
])
def test_an_array_for_a_text_setting_is_refused_by_print_config(
        command: list[str], setting: str, key: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--print-config", "--set", setting]) == 2
    assert f"{key} is text, not an array; write comma-separated values as one string" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("command", "setting", "message"), [
    (["train", "synthetic"], "data.task=cpy", "data.task must be one of adding, copy; got 'cpy'"),
    (["train", "tagger"], "tagger.output=crff", "tagger.output must be one of crf, softmax"),
    (["train", "tagger"], "data.scheme=bilou", "data.scheme must be one of bio, bioes"),
    (["train", "classifier"], "classifier.pooling=attn",
     "classifier.pooling must be one of last, max, mean, attention; got 'attn'"),
    (["train", "classifier"], "data.format=xml", "data.format must be one of auto, jsonl"),
    (["train", "dqn"], 'run.seeds="1,x"', "run.seeds must be whole numbers separated by commas"),
    (["stocks"], "data.symbols=XYZ", "data.symbols: unknown ['XYZ']"),
    (["stocks"], 'data.symbols="AAPL,data/prices.csv"',  # was "unknown ['DATA/PRICES.CSV']"
     "data.symbols names the file data/prices.csv, but rnnkit stocks reads only the built-in"),
    (["stocks"], 'data.symbols="msft.csv"', "use rnnkit train forecaster or rnnkit train "
     "signal with --set data.source=FILE"),
    (["train", "tagger"], "data.min_count=0", "data.min_count must be at least 1; got 0"),
    (["train", "classifier"], "data.min_count=-1", "data.min_count must be at least 1; got -1"),
    (["train", "lm"], "data.min_count=0", "data.min_count must be at least 1; got 0"),
    (["train", "classifier"], "data.max_tokens=-5", "data.max_tokens must be at least 0; got -5"),
    (["train", "classifier"], 'embeddings.vectors="no-such-vectors.bin"',
     "embeddings.vectors: vectors file no-such-vectors.bin does not exist"),
    (["train", "classifier"], "embeddings.extend_vocab=-1",
     "embeddings.extend_vocab must be at least 0; got -1"),
    # the dataset's splits were read and the file silently never (--train with --dataset too)
    (["train", "classifier", "--dataset", "sst"], 'data.test="mine.tsv"',
     "data.dataset=sst reads that dataset's own splits, so data.test would not be read"),
    (["train", "classifier", "--dataset", "imdb", "--train", "mine.tsv"], 'data.dev="d.tsv"',
     "so data.train and data.dev would not be read"),
])
def test_print_config_and_nproc_run_the_task_checks(
        command: list[str], setting: str, message: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config printed these settings and exited 0, and --nproc 2 started both
    processes, each printing the error."""
    import rnnkit.cli

    def no_launch(*_: object) -> int:
        raise AssertionError("the processes started")

    monkeypatch.setattr(rnnkit.cli, "launch", no_launch)
    assert main([*command, "--print-config", "--set", setting]) == 2
    assert message in capsys.readouterr().err
    if command[0] == "train" and command[1] != "dqn":  # those trained through the trainer
        assert main([*command, "--nproc", "2", "--set", "train.device=cpu", "--set",
                     setting]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("command, setting, message", [
    (["train", "tagger", "--format", "conllu", "--train", "no-such-train.conllu"],
     "train.epochs=1", "data.train (--train) no-such-train.conllu: no such file; give the path"),
    (["train", "tagger", "--format", "conllu", "--train", __file__], 'data.test="no-such.txt"',
     "no dev file: give --dev FILE (data.dev)"),
    (["train", "classifier", "--train", "no-such-train.csv"], "train.epochs=1",
     "data.train (--train) no-such-train.csv: no such file"),
    (["train", "classifier"], 'data.dataset=""', "no training data: set data.dataset"),
    (["train", "lm", "--file", "no-such.txt"], "train.epochs=1",
     "data.file (--file) no-such.txt: no such file"),
    (["train", "lm"], 'data.dataset=""', "no text: set data.dataset"),
    (["train", "seq2seq", "--train", "no-such"], "train.epochs=1",
     "data.train (--train) no-such.de: no such file; give the prefix of an existing pair"),
    (["train", "forecaster"], 'data.source="no-such.csv"',
     "data.source 'no-such.csv' is neither a source"),
    (["train", "signal"], 'data.source="no-such.csv"',
     "data.source 'no-such.csv' is neither a source"),
])
def test_nproc_checks_the_input_files_once_before_the_processes_start(
        command: list[str], setting: str, message: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing input file (or a split given none) was refused only by the processes that
    --nproc 2 started, each printing the same error line. --print-config alone still prints
    the settings, whatever files they name. One process says the same (it said 'no such file
    or folder: X; check the path given', or 'text file X.de does not exist', naming no
    setting), and makes no --out either."""
    import rnnkit.cli

    def no_launch(*_: object) -> int:
        raise AssertionError("the processes started")

    monkeypatch.setattr(rnnkit.cli, "launch", no_launch)
    monkeypatch.chdir(tmp_path)  # the relative names are missing here
    assert main([*command, "--print-config", "--set", setting]) == 0
    capsys.readouterr()
    assert main([*command, "--nproc", "2", "--set", "train.device=cpu", "--set", setting,
                 "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("rnnkit: error:") == 1
    assert not (tmp_path / "run").exists()
    assert main([*command, "--set", setting, "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == error  # one process: the same message
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv", [
    ["diagnose", "--length", str(2**70)],  # a torch traceback
    ["generate", "--model", "unused.rnnkit", "--length", str(2**70)],  # generated without end
])
def test_whole_number_flags_past_2_63_are_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(
        "rnnkit: error: --length must be a whole number below 2**63")


def test_a_section_of_another_command_is_named_as_such(
        capsys: pytest.CaptureFixture[str]) -> None:
    """train forecaster --set signal.mode=long_short said 'did you mean train.mode?', a
    setting of min or max."""
    assert main(["train", "forecaster", "--print-config", "--set", "signal.mode=long_short"]) == 2
    err = capsys.readouterr().err
    assert "--set signal.mode: signal.* are settings of rnnkit train signal and rnnkit stocks, " \
           "not of this command, whose sections are data, model, train, forecast" in err
    assert "train.mode" not in err


def test_a_file_with_a_section_of_another_command_is_named_as_such(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A signal run's config.toml given to train forecaster said 'unknown config section
    'signal'; did you mean train.mode?', the guess the --set check above was made to avoid."""
    path = tmp_path / "signal.toml"
    path.write_text('[signal]\nmode = "long_short"\n', encoding="utf-8")
    assert main(["train", "forecaster", "--config", str(path), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert f"{path} holds [signal]: signal.* are settings of rnnkit train signal and rnnkit " \
           "stocks, not of this command, whose sections are data, model, train, forecast: " \
           "give the file to that command, or remove the section" in err
    assert "train.mode" not in err
    path.write_text("[agent]\nlr = 0.1\n", encoding="utf-8")
    assert main(["stocks", "--config", str(path), "--print-config"]) == 2
    assert "holds [agent]: agent.* are settings of rnnkit train dqn" in capsys.readouterr().err


def test_the_table_of_sections_by_command_is_true() -> None:
    import dataclasses

    from rnnkit.commands.common import SECTION_COMMANDS
    from rnnkit.pipelines.classifier import ClassifierRunConfig
    from rnnkit.pipelines.dqn import DQNRunConfig
    from rnnkit.pipelines.forecaster import ForecastRunConfig
    from rnnkit.pipelines.language_model import LMRunConfig
    from rnnkit.pipelines.seq2seq import Seq2SeqRunConfig
    from rnnkit.pipelines.signal import SignalRunConfig
    from rnnkit.pipelines.stocks import StocksRunConfig
    from rnnkit.pipelines.synthetic import SyntheticRunConfig
    from rnnkit.pipelines.tagger import TaggerRunConfig

    configs = {"train synthetic": SyntheticRunConfig, "train tagger": TaggerRunConfig,
               "train classifier": ClassifierRunConfig, "train lm": LMRunConfig,
               "train seq2seq": Seq2SeqRunConfig, "train forecaster": ForecastRunConfig,
               "train signal": SignalRunConfig, "train dqn": DQNRunConfig,
               "stocks": StocksRunConfig}
    table: dict[str, set[str]] = {}
    for command, config in configs.items():
        for field in dataclasses.fields(config):
            if field.name not in ("data", "model", "train"):
                table.setdefault(field.name, set()).add(command)
    assert {section: set(commands) for section, commands in SECTION_COMMANDS.items()} == table
