"""Word embeddings: the rnnkit word2vec commands (train, neighbors, analogy, evaluate)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_embeddings import clustered_corpus, hand_made, tiny

import rnnkit.cli
from rnnkit.embeddings import (
    detect_format,
    load_vectors,
    save_vectors,
)

# command line ------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> None:
    if "word2vec" not in rnnkit.cli.COMMAND_MODULES:
        monkeypatch.setattr(rnnkit.cli, "COMMAND_MODULES", (*rnnkit.cli.COMMAND_MODULES,
                                                            "word2vec"))


def test_cli_train_neighbors_analogy_evaluate(
    cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in clustered_corpus(200)) + "\n")
    out, text_out = tmp_path / "v.bin", tmp_path / "v.txt"
    common = ["--dim", "8", "--min-count", "1", "--epochs", "2", "--workers", "1", "--no-progress"]
    main = rnnkit.cli.main
    assert main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out),
                 "--text-out", str(text_out), "--cbow", *common]) == 0
    assert "12 words x 8 (cbow" in capsys.readouterr().out
    assert detect_format(out) == "word2vec-binary" and detect_format(text_out) == "word2vec-text"

    assert main(["word2vec", "neighbors", "--vectors", str(out), "cat", "-k", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["word2vec", "analogy", "--vectors", str(text_out), "cat", "dog", "red"]) == 0
    assert capsys.readouterr().out.startswith("cat : dog :: red : ?")
    scores = tmp_path / "scores.json"
    assert main(["word2vec", "evaluate", "--vectors", str(out), "--json-out", str(scores)]) == 0
    assert "wordsim353" in capsys.readouterr().out
    assert json.loads(scores.read_text())["words"] == 12

    assert main(["word2vec", "neighbors", "--vectors", str(out), "unicorn"]) == 2
    assert "rnnkit: error: not in the vectors (12 words): 'unicorn'" in capsys.readouterr().err
    assert main(["word2vec", "neighbors", "--vectors", str(corpus), "cat"]) == 2
    assert "neither a word2vec header" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["train", "neighbors", "analogy", "evaluate"])
def test_every_word2vec_action_has_help(
    cli: None, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        rnnkit.cli.main(["word2vec", action, "--help"])
    assert exit_info.value.code == 0
    assert "usage: rnnkit word2vec" in capsys.readouterr().out


@pytest.mark.parametrize("tag", ["NOUN", "_"], ids=["tagged", "untagged"])
def test_cli_trains_on_conllu_forms(cli: None, tmp_path: Path, tag: str) -> None:
    treebank = tmp_path / "tiny.conllu"  # the tags are not read: an untagged file is fine
    blocks = ["\n".join("\t".join([str(i + 1), word, "_", tag] + ["_"] * 6)
                        for i, word in enumerate(s))
              for s in clustered_corpus(100)]
    treebank.write_text("\n\n".join(blocks) + "\n\n")
    out = tmp_path / "v.txt"
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(treebank), "--out", str(out),
                            "--dim", "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
                            "--no-progress", "--sg", "--lowercase"]) == 0
    assert len(load_vectors(out)) == 12


@pytest.mark.parametrize(("flags", "message"), [
    (["--seed", "-1"], "word2vec seed must be between 0 and 4294967295, got -1"),
    (["--min-count", "0"], "--min-count must be at least 1; got 0"),  # said 'min_count'
    (["--dim", "0"], "--dim must be at least 1; got 0"),
    (["--negative", "-5"], "--negative must be at least 1; got -5"),
    (["--seed", str(2**32)], "word2vec seed must be between 0 and 4294967295"),
    (["--out", "{tmp}/a-file/v.bin"], "a-file is a file, not a folder"),
    (["--text-out", "{tmp}"],
     "--text-out {tmp} is a folder; give the file to write, e.g. {tmp}/vectors.txt"),
    (["--text-out", "{tmp}/a-file/v.txt"], "a-file is a file, not a folder"),
    (["--out", "{tmp}/../{name}/corpus.txt"],
     "--out {tmp}/../{name}/corpus.txt is the corpus file {tmp}/corpus.txt: the vectors would "
     "be written over the corpus"),
    (["--text-out", "{tmp}/corpus.txt"], "--text-out {tmp}/corpus.txt is the corpus file"),
    (["--text-out", "{tmp}/v.bin"], "--text-out {tmp}/v.bin is the --out file"),
], ids=["negative-seed", "min-count", "dim", "negative", "huge-seed", "out-in-file",
        "text-out-folder", "text-out-in-file", "out-is-corpus", "text-out-is-corpus",
        "text-out-is-out"])
def test_word2vec_train_refuses_bad_flags_before_training(
        cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat\n" * 5)
    (tmp_path / "a-file").write_text("")
    flags = [flag.format(tmp=tmp_path, name=tmp_path.name) for flag in flags]
    args = ["word2vec", "train", "--corpus", str(corpus), "--out", str(tmp_path / "v.bin"),
            "--dim", "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
            "--no-progress"]
    assert rnnkit.cli.main(args + flags) == 2
    assert message.format(tmp=tmp_path, name=tmp_path.name) in capsys.readouterr().err
    assert not (tmp_path / "v.bin").exists()  # refused before any training
    assert corpus.read_text() == "the cat sat\n" * 5


@pytest.mark.parametrize(("flag", "name", "content", "holds"), [
    ("--out", "prices.csv", "date,close\n2024-01-02,185.6\n", "no word2vec vectors"),
    ("--out", "vectors.bin", "the cat sat\n", "no word2vec vectors"),  # a text named .bin
    ("--out", "glove.6B.4d.txt", "the 0.1 0.2 0.3 0.4\n",
     "GloVe vectors (no 'COUNT DIM' header)"),
    ("--text-out", "notes.txt", "my notes\n", "no word2vec vectors"),
], ids=["csv", "text-named-bin", "glove", "text-out-notes"])
def test_word2vec_train_refuses_to_replace_a_file_that_holds_no_word2vec_vectors(
        cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, name: str,
        content: str, holds: str) -> None:
    """--out (or --text-out) replaced any existing file, once the training was done: a CSV, a
    text, a GloVe download. Only an earlier run's word2vec vectors are replaced."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat\n" * 5)
    kept = tmp_path / name
    kept.write_text(content)
    outs = {"--out": str(tmp_path / "v.bin"), flag: str(kept)}
    outputs = [part for pair in outs.items() for part in pair]
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(corpus), *outputs, "--dim",
                            "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
                            "--no-progress"]) == 2
    example = {"--out": "vectors.bin", "--text-out": "vectors.txt"}[flag]
    example = example if name != example else "new-" + example
    assert capsys.readouterr().err == (
        f"rnnkit: error: {flag} {kept} exists and holds {holds}, which the vectors would "
        f"replace; {flag} replaces only an earlier run's word2vec file: give {flag} a new file, "
        f"e.g. {tmp_path / example}, or move {kept} away first\n")
    assert kept.read_text() == content
    assert not (tmp_path / "v.bin").exists()  # refused before the training


@pytest.mark.parametrize("earlier", ["v.bin", "v.txt", "v.txt.gz", "empty"])
def test_word2vec_train_replaces_an_earlier_runs_vectors(
        cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], earlier: str) -> None:
    """Training again with the same --out replaces the vectors, as gensim and fastText do (an
    empty file, made by touch, holds nothing to lose)."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in clustered_corpus(50)) + "\n")
    out = tmp_path / ("v.bin" if earlier == "empty" else earlier)
    if earlier == "empty":
        out.write_bytes(b"")
    else:
        save_vectors(hand_made(), out)
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out),
                            "--dim", "4", "--min-count", "1", "--epochs", "1", "--workers", "1",
                            "--no-progress"]) == 0
    assert len(load_vectors(out)) == 12 and load_vectors(out).vector_size == 4
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("json_out", "message"), [
    ("{tmp}", "--json-out {tmp} is a folder; give the file to write, e.g. {tmp}/scores.json"),
    ("{tmp}/a-file/s.json", "a-file is a file, not a folder"),
    ("{tmp}/locked/s.json", "the folder {tmp}/locked cannot be written in"),
    # written atomically (a temporary file renamed over it): its folder must be writable
    ("{tmp}/locked/old.json", "the folder {tmp}/locked cannot be written in"),
    ("{tmp}/v.txt", "--json-out {tmp}/v.txt is the --vectors file"),
], ids=["folder", "in-file", "not-writable", "existing-not-writable", "is-vectors"])
def test_word2vec_evaluate_checks_json_out_before_evaluating(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        json_out: str, message: str) -> None:
    vectors = save_vectors(hand_made(), tmp_path / "v.txt", "word2vec-text")
    saved = vectors.read_bytes()
    (tmp_path / "a-file").write_text("")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "old.json").write_text("{}")
    access = os.access  # chmod does not stop root: the permission is faked
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked
                        and access(path, mode))
    assert rnnkit.cli.main(["word2vec", "evaluate", "--vectors", str(vectors), "--json-out",
                            json_out.format(tmp=tmp_path)]) == 2
    captured = capsys.readouterr()
    assert message.format(tmp=tmp_path) in captured.err
    assert captured.out == ""  # refused before the evaluation printed its table
    assert vectors.read_bytes() == saved


def test_word2vec_options_refuse_a_bad_learning_rate_and_sample() -> None:
    for rate in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="learning_rate must be a positive number"):
            tiny(learning_rate=rate)
    with pytest.raises(ValueError, match="sample must be >= 0, got nan"):
        tiny(sample=float("nan"))


@pytest.mark.parametrize(("command", "message"), [
    (["neighbors", "cat", "-k", "0"], "-k must be at least 1; got 0"),  # printed nothing
    (["analogy", "cat", "dog", "the", "-k", "-2"], "-k must be at least 1; got -2"),
    (["evaluate", "--restrict-vocab", "0"], "--restrict-vocab must be at least 1; got 0"),
])
def test_word2vec_refuses_counts_below_one(command: list[str], message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    vectors = save_vectors(hand_made(), tmp_path / "v.txt", "word2vec-text")
    assert rnnkit.cli.main(["word2vec", command[0], "--vectors", str(vectors),
                            *command[1:]]) == 2
    assert message in capsys.readouterr().err


def test_word2vec_train_refuses_a_token_with_a_space_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A tab-separated column file may hold 'New York' as one token: the vectors were trained,
    then could not be saved ('words in vector files have no spaces'), the training lost."""
    corpus = tmp_path / "ny.conll"
    corpus.write_text("New York\tB-LOC\nis\tO\nbig\tO\n")
    out = tmp_path / "v.bin"
    assert rnnkit.cli.main(["word2vec", "train", "--corpus", str(corpus), "--out", str(out),
                            "--min-count", "1", "--dim", "4", "--epochs", "1", "--workers", "1",
                            "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "--corpus: the token 'New York' holds a space" in captured.err
    assert "e.g. 'New_York'" in captured.err and "words x" not in captured.out
    assert not out.exists()


@pytest.mark.parametrize("vectors_file", ["v.txt", "corpus.txt"], ids=["unknown", "no-vectors"])
def test_a_refused_analogy_prints_no_question(cli: None, tmp_path: Path, vectors_file: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The question 'cat : unicorn :: the : ?' was printed, then the error said that
    'unicorn' (or the whole file) gives no answer."""
    save_vectors(hand_made(), tmp_path / "v.txt", "word2vec-text")
    (tmp_path / "corpus.txt").write_text("the cat sat\n")
    assert rnnkit.cli.main(["word2vec", "analogy", "--vectors", str(tmp_path / vectors_file),
                            "cat", "unicorn", "the"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("'unicorn'" if vectors_file == "v.txt" else "neither a word2vec header") in captured.err
