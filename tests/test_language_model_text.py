"""Language model: reading a user's text file (encodings, line ends, too little text)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_language_model import TEXT

from rnnkit.cli import main
from rnnkit.data.text_stream import build_stream_vocab, tokenize


def test_a_validation_text_too_short_names_its_own_setting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "tiny.txt"
    text.write_text(TEXT * 4)  # 1.3k characters; 1% of them cannot fill 16 columns
    assert main(["train", "lm", "--file", str(text), "--out", str(tmp_path / "run"),
                 "--set", "train.batch_size=2", "--set", "data.validation_fraction=0.01",
                 "--set", "model.hidden_size=8", "--set", "train.threads=1"]) == 2
    err = capsys.readouterr().err
    assert "too short for 16 columns" in err and "a smaller data.eval_batch_size" in err


def test_a_one_line_text_s_final_line_break_names_the_validation_split(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a file of one line said "the validation text holds characters never seen in training:
    # ['\\n']; train on text that contains them", though the file given does contain them
    text = tmp_path / "one_line.txt"
    text.write_text("the cat sat on the mat. " * 100 + "\n")
    assert main(["train", "lm", "--file", str(text), "--out", str(tmp_path / "run"),
                 "--set", "train.batch_size=2", "--set", "model.hidden_size=8"]) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: the validation text (the last 0.1 of the text, data.validation_fraction)"
        " holds characters never seen in training: ['\\n']; the training text before it has "
        "none of them, and a character model cannot score a character it never saw: have them "
        "occur before the end too (or remove them from it), or change "
        "data.validation_fraction\n")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("level", ["char", "word"])
def test_a_validation_fraction_that_leaves_no_training_text_says_so(
        level: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a character model listed every character of the text as 'never seen in training'; a word
    # model said 'the training text holds no word, only line breaks' of an empty training text
    text = tmp_path / "play.txt"
    text.write_text(TEXT)  # 464 characters: 0.999 leaves 0 of them to train on
    assert main(["train", "lm", "--file", str(text), "--out", str(tmp_path / "run"),
                 "--set", f"lm.level={level}", "--set", "data.validation_fraction=0.999"]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: data.validation_fraction=0.999 leaves no {level} token to train on "
        f"(the first 0 of the text's {len(TEXT)} characters); use a smaller "
        "data.validation_fraction or a longer text\n")
    assert not (tmp_path / "run").exists()


def test_a_file_of_whitespace_is_not_said_to_be_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # '   \n' was refused as 'is empty: a language model needs text to learn from', by
    # rnnkit evaluate too, which learns nothing
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.txt").write_text("   \n\n")
    for name, message in (("empty.txt", "is empty"),
                          ("blank.txt", "holds only whitespace (5 characters)")):
        path = tmp_path / name
        with pytest.raises(ValueError) as error:
            read_text(LMDataConfig(dataset="", file=str(path)))
        assert str(error.value) == (f"{path} {message}: a language model needs text to learn "
                                    "from or to be scored on")


def test_the_text_file_is_read_as_utf8_without_its_byte_order_mark(tmp_path: Path) -> None:
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    path = tmp_path / "text.txt"
    path.write_bytes("\ufeffhello\nworld\n".encode())
    assert read_text(LMDataConfig(file=str(path))) == "hello\nworld\n"  # no "\ufeff" to learn
    path.write_bytes(b"hello\nw\xf6rld\n")
    with pytest.raises(ValueError, match=f"{path}:2: not UTF-8 text"):
        read_text(LMDataConfig(file=str(path)))


def test_a_gzipped_text_file_is_read_decompressed(tmp_path: Path) -> None:
    """data.file=text.txt.gz was refused as 'not UTF-8 text (invalid start byte ...)', while
    the other readers (classifier, tagger, word2vec) decompress a .gz file."""
    import gzip

    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    path = tmp_path / "text.txt.gz"
    path.write_bytes(gzip.compress("\ufeffhello\nworld\n".encode()))
    assert read_text(LMDataConfig(file=str(path))) == "hello\nworld\n"
    path.write_bytes(b"hello\n")
    with pytest.raises(ValueError, match=f"{path}: not gzip data"):
        read_text(LMDataConfig(file=str(path)))


def test_windows_and_old_mac_line_endings_read_as_line_breaks(tmp_path: Path) -> None:
    """A CRLF file taught a character model '\r' as a character of its own, written before
    every line break it generated (and lone CRs were no line breaks)."""
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    path = tmp_path / "text.txt"
    path.write_bytes(b"ROMEO:\r\nBut soft!\r\n\r\nJULIET:\rAy me.\r")
    assert read_text(LMDataConfig(file=str(path))) == "ROMEO:\nBut soft!\n\nJULIET:\nAy me.\n"


def test_a_text_file_names_the_default_run_folder_and_excludes_dataset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--set data.file=play.txt trained on the file but wrote runs/lm-tinyshakespeare (the
    default dataset's folder, an earlier run there cleared); --file with --dataset trained on
    the file and said nothing of the dataset."""
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "lm", "--set", f"data.file={str(corpus)!r}",
                 "--set", "train.epochs=1", "--set", "model.hidden_size=8",
                 "--set", "train.batch_size=4", "--set", "data.steps=20",
                 "--set", "data.eval_batch_size=2", "--set", "sample.length=5",
                 "--set", "train.progress=false", "--set", "train.device=cpu"]) == 0
    assert (tmp_path / "runs" / "lm-play" / "model.rnnkit").exists()
    assert not (tmp_path / "runs" / "lm-tinyshakespeare").exists()
    capsys.readouterr()
    assert main(["train", "lm", "--file", str(corpus), "--dataset", "tinyshakespeare",
                 "--print-config"]) == 2
    assert "--file" in (err := capsys.readouterr().err) and "give one of them" in err


def test_a_min_count_that_keeps_no_word_is_refused_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every word rarer than data.min_count left <pad> and <unk> alone: training ran, then the
    sample failed in torch.multinomial ('probability tensor contains ... nan'), no results."""
    corpus = tmp_path / "line.txt"
    corpus.write_text("to be or not to be that is the question " * 40, encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 "--set", "lm.level=word", "--set", "data.min_count=1000",
                 "--set", 'sample.prime="to be"', "--set", "model.hidden_size=8",
                 "--set", "train.batch_size=4", "--set", "data.steps=10",
                 "--set", "data.eval_batch_size=2", "--set", "train.progress=false",
                 "--set", "train.device=cpu"]) == 2
    err = capsys.readouterr().err
    assert "data.min_count=1000 keeps no word" in err and "'to', seen 72 times" in err
    assert not (out / "model.rnnkit").exists()
    with pytest.raises(ValueError, match="holds no word"):
        build_stream_vocab(tokenize("\n\n\n", "word"), "word")


def test_a_text_too_short_is_reported_before_a_missing_line_break(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A one-line word text too short for the batch said "sample.prime: give a prime: the
    model has no line break to start from"; a prime given, the text was then too short."""
    corpus = tmp_path / "line.txt"
    corpus.write_text("to be or not to be that is the question", encoding="utf-8")
    assert main(["train", "lm", "--file", str(corpus), "--out", str(tmp_path / "run"),
                 "--set", "lm.level=word", "--set", "model.hidden_size=8",
                 "--set", "train.threads=1"]) == 2
    err = capsys.readouterr().err
    assert "too short for 32 columns" in err and "prime" not in err


def test_a_text_of_one_line_asks_for_a_prime_saying_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A text of one line (no line break, a sample's default start) was refused before
    training as 'sample.prime: give a prime: the model has no line break to start from',
    which did not say why the setting, never given, was wanted nor what to give."""
    corpus = tmp_path / "line.txt"
    corpus.write_text("to be or not to be, that is the question. " * 200, encoding="utf-8")
    run = ["train", "lm", "--file", str(corpus), "--out", str(tmp_path / "run"), "--set",
           "model.hidden_size=8", "--set", "train.threads=1", "--set", "train.epochs=1"]
    assert main(run) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: sample.prime: the model saw no line break in training (its text is one "
        "line), which a sample starts from when no prime is given; give a prime, the text the "
        "sample starts with, such as its first word\n")
    assert main([*run, "--set", "sample.prime=to", "--set", "train.progress=false"]) == 0
