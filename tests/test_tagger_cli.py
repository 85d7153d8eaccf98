"""``rnnkit train tagger`` / ``evaluate`` / ``predict`` end to end on tiny files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main

CONLLU = """# sent_id = 1
1\tJohn\tJohn\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2\truns\trun\tVERB\tVBZ\t_\t0\troot\t_\t_
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

# sent_id = 2
1\tMary\tMary\tPROPN\tNNP\t_\t2\tnsubj\t_\t_
2\tsleeps\tsleep\tVERB\tVBZ\t_\t0\troot\t_\t_

"""

IOB = "John\tB-PER\nlives\tO\nin\tO\nParis\tB-LOC\n\nMary\tB-PER\nleft\tO\n\n"

TINY = ["--set", "train.epochs=2", "--set", "train.progress=false", "--set",
        "model.hidden_size=8", "--set", "tagger.word_dim=8", "--set", "tagger.char_dim=4",
        "--set", "tagger.char_hidden=4", "--set", "train.threads=1"]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    conllu = tmp_path / "pos.conllu"
    conllu.write_text(CONLLU)
    iob = tmp_path / "ner.iob"
    iob.write_text(IOB)
    return {"conllu": conllu, "iob": iob}


def _train(files: dict[str, Path], fmt: str, out: Path, *extra: str) -> int:
    path = str(files[fmt])
    return main(["train", "tagger", "--train", path, "--dev", path, "--test", path,
                 "--format", fmt, "--out", str(out), *TINY, *extra])


def test_train_evaluate_predict_conllu(files: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    for name in ("model.rnnkit", "results.json", "config.toml", "test_confusion.png",
                 "test_confusion.md", "test.predictions.conllu"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert 0.0 <= results["test"]["scores"]["accuracy"] <= 1.0
    assert "f1" not in results["test"]["scores"]  # UPOS tags have no spans
    written = (out / "test.predictions.conllu").read_text().splitlines()
    assert written[0] == "# sent_id = 1" and written[1].split("\t")[1] == "John"
    capsys.readouterr()
    model = str(out / "model.rnnkit")
    assert main(["evaluate", "--model", model, "--data", str(files["conllu"])]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 5
    assert main(["predict", "--model", model, "--text", "Mary runs ."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines if line] == ["Mary", "runs", "."]
    target = tmp_path / "pred.txt"  # written as named, in the input's format
    assert main(["predict", "--model", model, "--input", str(files["conllu"]),
                 "--output", str(target)]) == 0
    assert target.read_text().count("\n") == CONLLU.count("\n")
    assert not Path(f"{target}.conllu").exists()


def test_ner_tagger_outputs_valid_bio(files: dict[str, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from rnnkit.data.tags import is_valid_bio

    out = tmp_path / "ner"
    assert _train(files, "iob", out, "--set", "data.scheme=bioes") == 0
    results = json.loads((out / "results.json").read_text())
    assert "f1" in results["test"]["scores"] and "per_type" in results["test"]
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text",
                 "John lives in Paris\nMary left"]) == 0
    sentences = capsys.readouterr().out.strip().split("\n\n")
    for sentence in sentences:
        assert is_valid_bio([line.split("\t")[1] for line in sentence.splitlines()])
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text",
                 "John <pad> <PAD> left"]) == 0  # a literal padding symbol is only a word
    assert [line.split("\t")[0] for line in capsys.readouterr().out.split("\n") if line] == [
        "John", "<pad>", "<PAD>", "left"]


def test_bad_input_is_a_clear_error(files: dict[str, Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.conllu"
    empty.write_text("")
    good = str(files["conllu"])  # (without them, the missing dev file is said first)
    assert main(["train", "tagger", "--train", str(empty), "--dev", good, "--test", good,
                 "--format", "conllu", "--out", str(tmp_path / "x"), *TINY]) == 2
    assert "empty.conllu" in capsys.readouterr().err
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    assert main(["predict", "--model", model, "--text", "   "]) == 2
    assert "nothing to tag" in capsys.readouterr().err
    assert main(["predict", "--model", model, "--text", "Mary runs .\rJohn walks ."]) == 2
    assert "--text:1: a carriage return" in capsys.readouterr().err  # was: one sentence
    crlf = tmp_path / "crlf.txt"  # a CRLF file whose last \n is gone ($(cat file) drops it)
    crlf.write_bytes(b"Mary runs .\r\n\r\nJohn walks .\r")
    for given in (["--text", "Mary runs .\r\n\r\nJohn walks .\r"], ["--input", str(crlf)]):
        assert main(["predict", "--model", model, "--format", "text", *given]) == 0, \
            capsys.readouterr().err  # the last line's \r was refused as one within it
        tagged = capsys.readouterr().out.strip().split("\n\n")
        assert [[line.split("\t")[0] for line in part.splitlines()] for part in tagged] == [
            ["Mary", "runs", "."], ["John", "walks", "."]]
    long_sentence = " ".join(["word"] * 500)  # far longer than any training sentence
    assert main(["predict", "--model", model, "--text", long_sentence]) == 0
    assert len(capsys.readouterr().out.split()) == 1000
    one_line = tmp_path / "one_line.txt"  # a whole text on one line: 4 GB for 2 MB of it
    one_line.write_text("Mary runs .\n" + "word " * 10_001)
    assert main(["predict", "--model", model, "--format", "text", "--input", str(one_line)]) == 2
    assert (f"{one_line}:2: a sentence of 10,001 tokens, more than one sentence may hold "
            "(10,000)") in capsys.readouterr().err
    unknown = tmp_path / "unknown.conllu"
    unknown.write_text(CONLLU.replace("PUNCT", "SYM"))
    assert main(["evaluate", "--model", model, "--data", str(unknown)]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_gold_tags"] == ["SYM"]
    other = tmp_path / "other.conllu"  # another tag set: most tokens carry strange tags
    other.write_text(re.sub(r"\t(NOUN|VERB|DET|PRON|ADJ|PUNCT)\t", "\tXX\t", CONLLU))
    assert main(["evaluate", "--model", model, "--data", str(other)]) == 2
    err = capsys.readouterr().err
    assert "carry tags the model never saw (XX); it predicts PROPN, PUNCT, VERB. " in err
    assert "<pad>" not in err  # a tag id, never predicted


def test_bundle_of_another_task_is_refused(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synthetic"
    assert main(["train", "synthetic", "--set", "data.length=5", "--set", "data.train_size=32",
                 "--set", "data.val_size=16", "--set", "data.test_size=16", "--set",
                 "train.epochs=1", "--set", "model.hidden_size=4", "--set",
                 "train.progress=false", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text", "a b"]) == 2
    assert "rnnkit predict does not run 'synthetic' models: a synthetic-task model is scored " \
        "with rnnkit evaluate --model M" in capsys.readouterr().err


def test_word2vec_trained_on_the_training_text_initialises_the_tagger(
    files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "w2v"
    assert _train(files, "conllu", out, "--set", "embeddings.word2vec=true",
                  "--set", "embeddings.word2vec_min_count=1",
                  "--set", "embeddings.word2vec_epochs=1") == 0
    coverage = json.loads((out / "results.json").read_text())["embedding_coverage"]
    assert coverage["vocab_found"] == coverage["vocab_size"] == 5  # every training word
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    sentences = [TaggedSentence(["a", "dog", "runs", "a", "cat", "sits"] * 20, ["X"] * 120)]
    words = Vocab.build([s.tokens for s in sentences])
    config = EmbeddingConfig(word2vec=True, word2vec_min_count=1, word2vec_epochs=3)
    matrices = [prepare_embeddings(config, words, sentences, 16, True, lambda line: None,
                                   seed=3)[1] for _ in range(2)]
    assert matrices[0] is not None and torch.equal(matrices[0], matrices[1])  # repeatable


def test_rare_training_words_with_a_vector_keep_it_and_coverage_counts_all_the_text(
        tmp_path: Path) -> None:
    """data.min_count sent every rare word to <unk>, vector or not, and coverage left the rare
    words out of the running text: 2/2 tokens (100%) of a 5-token text."""
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\nParis 3 4\nzzz 5 6\n")
    sentences = [TaggedSentence(["The", "the", "paris", "rome", "zzz"], ["O"] * 5)]
    words = Vocab.build([[t.lower() for t in s.tokens] for s in sentences], min_count=2)
    lines: list[str] = []
    config = EmbeddingConfig(vectors=str(vectors), extend_vocab=0)
    vocab, matrix, coverage = prepare_embeddings(config, words, sentences, 2, True, lines.append)
    assert vocab.symbols == ["<pad>", "<unk>", "the", "paris", "zzz"]  # rome: no vector, <unk>
    assert matrix is not None and matrix[3].tolist() == [3.0, 4.0]  # Paris, lowercased
    assert coverage is not None and (coverage["token_found"], coverage["token_total"]) == (4, 5)
    assert (coverage["vocab_found"], coverage["vocab_size"]) == (3, 4)
    assert "vocabulary 3/4 words (75.0%, 1 lowercased); running text 4/5 tokens (80.0%)" in (
        lines[-1])


@pytest.mark.parametrize("lowercase", [True, False])
def test_extend_vocab_adds_a_capitalised_vector_word_s_lowercase_form(
        tmp_path: Path, lowercase: bool) -> None:
    """With tagger.lowercase (the default) embeddings.extend_vocab left out every capitalised
    vector word (GoogleNews holds Tampa, not tampa): only 'paris' was added here."""
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\nTampa 3 4\nTAMPA 9 9\nParis 5 6\nparis 7 8\nRome 1 1\n"
                       "Cat 2 2\nOslo 6 6\n")
    sentences = [TaggedSentence(["The", "the", "cat", "dog"], ["O"] * 4)]
    words = Vocab.build([[t.lower() if lowercase else t for t in s.tokens] for s in sentences])
    lines: list[str] = []
    config = EmbeddingConfig(vectors=str(vectors), extend_vocab=7)  # not Oslo, the 8th
    vocab, matrix, coverage = prepare_embeddings(config, words, sentences, 2, lowercase,
                                                 lines.append)
    assert matrix is not None and coverage is not None
    rows = {word: matrix[vocab.index[word]].tolist() for word in vocab.symbols[2:]}
    if lowercase:  # each form once; Tampa's vector, the first met, and paris's own
        assert vocab.symbols[2:] == ["the", "cat", "dog", "tampa", "paris", "rome"]
        assert (rows["tampa"], rows["paris"], rows["rome"]) == ([3, 4], [7, 8], [1, 1])
        assert rows["cat"] == [2, 2]  # a training word, as before
        assert (coverage["vocab_found"], coverage["vocab_size"], coverage["lowercased"],
                coverage["token_found"], coverage["token_total"]) == (2, 3, 1, 3, 4)
    else:  # every vector word as it is, as before
        assert vocab.symbols[2:] == ["The", "the", "cat", "dog", "Tampa", "TAMPA", "Paris",
                                     "paris", "Rome", "Cat"]
        assert (rows["Tampa"], rows["TAMPA"], rows["Paris"]) == ([3, 4], [9, 9], [5, 6])
        assert (coverage["vocab_found"], coverage["vocab_size"], coverage["lowercased"],
                coverage["token_found"], coverage["token_total"]) == (3, 4, 2, 3, 4)
    assert f"vocabulary {coverage['vocab_found']}/{coverage['vocab_size']} words" in lines[-1]


@pytest.mark.parametrize(("settings", "message"), [
    (['embeddings.vectors="{tmp}/missing.bin"'],
     "embeddings.vectors: vectors file {tmp}/missing.bin does not exist"),
    (['embeddings.vectors="{tmp}"'], "embeddings.vectors: vectors file {tmp} is a folder"),
    (['embeddings.vectors="{tmp}/pos.conllu"'],
     "embeddings.vectors: vectors file {tmp}/pos.conllu starts with neither"),
    (["embeddings.word2vec=true", "embeddings.word2vec_epochs=0"],
     "embeddings.word2vec_epochs must be at least 1; got 0"),
    (["embeddings.word2vec=true", "embeddings.word2vec_min_count=0"],
     "embeddings.word2vec_min_count must be at least 1; got 0"),
    (["embeddings.word2vec=true", 'embeddings.corpus="{tmp}/missing.txt"'],
     "embeddings.corpus {tmp}/missing.txt: no such file"),
    (['embeddings.corpus="{tmp}/pos.conllu"'],
     "embeddings.corpus is read only to train word2vec: set embeddings.word2vec=true"),
    (["embeddings.word2vec=true", 'embeddings.vectors="{tmp}/pos.conllu"'],
     "embeddings.vectors and embeddings.word2vec=true both give the word vectors"),
    (["embeddings.extend_vocab=-1"], "embeddings.extend_vocab must be at least 0; got -1"),
    (["embeddings.freeze=true"], "embeddings.freeze acts on word vectors, and neither "
     "embeddings.vectors nor embeddings.word2vec=true gives any"),
    (["embeddings.word2vec_epochs=3"], "embeddings.word2vec_epochs acts on word2vec training, "
     "and embeddings.word2vec is false"),
    (["embeddings.vectors_format=glove"], "embeddings.vectors_format acts on a vectors file, "
     "and embeddings.vectors names none"),
], ids=["vectors-missing", "vectors-folder", "vectors-not-vectors", "epochs", "min-count",
        "corpus-missing", "corpus-without-word2vec", "vectors-and-word2vec", "extend-vocab",
        "freeze-without-vectors", "epochs-without-word2vec", "format-without-vectors"])
def test_embeddings_settings_are_refused_before_the_data_is_read(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        settings: list[str], message: str) -> None:
    """They were used only once the data was read, and word2vec's errors named no key."""
    overrides = [part for setting in settings
                 for part in ("--set", setting.format(tmp=tmp_path))]
    assert main(["train", "tagger", "--print-config", *overrides]) == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    assert _train(files, "conllu", tmp_path / "run", *overrides) == 2
    captured = capsys.readouterr()
    assert message.format(tmp=tmp_path) in captured.err
    assert "read 2 / 2 / 2 sentences" not in captured.out and not (tmp_path / "run").exists()


def test_pretrained_vectors_of_the_wrong_size_are_a_clear_error(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("2 3\njohn 0.1 0.2 0.3\nmary 0.3 0.2 0.1\n")
    assert _train(files, "conllu", tmp_path / "v", "--set",
                  f'embeddings.vectors="{vectors}"') == 2
    assert "set --set tagger.word_dim=3" in capsys.readouterr().err


def test_predict_tags_an_untagged_conllu_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    raw = tmp_path / "raw.conllu"
    untagged = "\n".join(
        "\t".join(f if i != 3 else "_" for i, f in enumerate(line.split("\t")))
        if line and not line.startswith("#") else line
        for line in CONLLU.split("\n")
    )
    raw.write_text(untagged)
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(raw),
                 "--output", str(raw)]) == 2  # was tagged in place: the input overwritten
    assert raw.read_text() == untagged
    target = tmp_path / "tagged.conllu"
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(raw),
                 "--output", str(target)]) == 0
    words = [line.split("\t") for line in target.read_text().splitlines()
             if line and not line.startswith("#")]
    assert len(words) == 5 and all(w[3] in ("PROPN", "VERB", "PUNCT") for w in words)


def test_a_malicious_file_given_as_model_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    import torch

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.rnnkit"
    torch.save({"weights": Exploit()}, evil)
    assert main(["evaluate", "--model", str(evil), "--data", "x"]) == 2
    assert "is not an rnnkit bundle" in capsys.readouterr().err
    assert not marker.exists()


def test_evaluate_and_predict_name_their_flags(files: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    conllu = str(files["conllu"])
    refused = [
        (["evaluate", "--data", "sst"], "--data 'sst' is neither a tagging dataset"),
        (["evaluate", "--data", conllu, "--format", "tsv"],
         "--format must be one of conllu, iob; got 'tsv'"),
        (["predict", "--input", conllu, "--format", "conll"],
         "--format must be one of text, conllu, iob; got 'conll'"),
        (["predict", "--input", str(tmp_path / "missing.txt")], "missing.txt: no such file"),
    ]
    for command, message in refused:
        assert main([command[0], "--model", model, *command[1:]]) == 2
        assert message in capsys.readouterr().err
    target = tmp_path / "new" / "pred"  # a folder that does not exist yet
    assert main(["predict", "--model", model, "--input", conllu, "--output", str(target)]) == 0
    assert target.is_file()


IOB1 = "John\tI-PER\nSmith\tI-PER\nlives\tO\nin\tO\nParis\tI-LOC\n\nMary\tI-PER\nleft\tO\n\n"
BIOES = "John\tB-PER\nSmith\tE-PER\nlives\tO\nin\tO\nParis\tS-LOC\n\nMary\tS-PER\nleft\tO\n\n"


@pytest.mark.parametrize("text", [IOB1, BIOES], ids=["iob1", "bioes"])
@pytest.mark.parametrize("scheme", ["bio", "bioes"])
def test_iob1_and_bioes_files_train_as_bio(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           text: str, scheme: str) -> None:
    from rnnkit.data.tags import is_valid_bio

    data = tmp_path / "ner.iob"
    data.write_text(text)
    out = tmp_path / "ner"
    assert _train({"iob": data}, "iob", out, "--set", f"data.scheme={scheme}") == 0
    results = json.loads((out / "results.json").read_text())
    assert results["history"][0]["train_loss"] < 100  # no gold path the CRF forbids (1e4)
    assert "unknown_gold_tags" not in results["test"]  # the gold is read as BIO too
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text", "Mary left"]) == 0
    assert is_valid_bio([line.split("\t")[1] for line in capsys.readouterr().out.split("\n")
                         if line])


def test_validation_scores_what_dev_reports_for_a_bioes_model(tmp_path: Path) -> None:
    from rnnkit.data.iob import read_iob
    from rnnkit.data.tagger_batches import collate, encode
    from rnnkit.pipelines.tagger import _training_tags, load_tagger_bundle
    from rnnkit.pipelines.tagger_scoring import evaluate_sentences

    data = tmp_path / "ner.iob"
    data.write_text("John\tB-PER\nSmith\tI-PER\nleft\tO\n\n")
    out = tmp_path / "ner"
    assert _train({"iob": data}, "iob", out, "--set", "data.scheme=bioes",
                  "--set", "tagger.output=softmax") == 0
    model = load_tagger_bundle(out / "model.rnnkit")
    with torch.no_grad():  # predict E-PER everywhere: invalid BIOES, three one-word spans
        model.head.weight.zero_()
        model.head.bias.fill_(-10.0)
        model.head.bias[model.tags.encode(["E-PER"])[0]] = 10.0
    sentences = read_iob(data)
    gold = _training_tags(sentences, "bioes")  # B-PER E-PER O
    batch = collate([encode(s.tokens, tags, model.words, model.chars, model.tags, True)
                     for s, tags in zip(sentences, gold, strict=True)])
    validation = model.evaluate([batch])  # what training logs and selects the epoch on
    dev = evaluate_sentences(model, sentences, None, "dev")["scores"]
    assert dev["accuracy"] == pytest.approx(1 / 3)  # B-PER B-PER B-PER: only B-PER right
    for name in ("accuracy", "precision", "recall", "f1"):
        assert validation[name] == pytest.approx(dev[name]), name


def test_predict_reads_bytes_writes_standard_output_and_hints_the_format(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    assert main(["predict", "--model", model, "--input", str(files["conllu"])]) == 0
    assert capsys.readouterr().out.count("\n") == CONLLU.count("\n")  # to standard output
    assert sorted(path.name for path in files["conllu"].parent.iterdir()
                  if path.name.startswith("pos.conllu")) == ["pos.conllu"]  # no file beside
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Mary r\xfcns .\n")))
    assert main(["predict", "--model", model]) == 2
    assert "standard input:1: not UTF-8 text" in capsys.readouterr().err
    marked = tmp_path / "marked.txt"
    marked.write_bytes("\ufeffMary runs .\n".encode())
    assert main(["predict", "--model", model, "--input", str(marked), "--format", "text"]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "Mary"  # the byte-order mark left out
    assert main(["predict", "--model", model, "--input", str(marked)]) == 2
    err = capsys.readouterr().err
    assert "read as conllu, the format the model trained on" in err and "--format: text" in err
    assert main(["evaluate", "--model", model, "--data", str(files["iob"])]) == 2
    assert "pass --format: conllu, iob" in capsys.readouterr().err


def test_scheme_bioes_on_part_of_speech_tags_is_refused_naming_the_setting(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # it failed with "tag 'PROPN' is not O, B-X, I-X, E-X or S-X", naming no file or setting
    assert _train(files, "conllu", tmp_path / "pos", "--set", "data.scheme=bioes") == 2
    err = capsys.readouterr().err
    assert "data.scheme=bioes" in err and "pos.conllu" in err and "PROPN" in err


def test_a_two_column_pos_file_trains_with_scheme_none(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "pos.txt"  # token and part-of-speech tag, space-separated
    data.write_text("John PROPN\nruns VERB\n. PUNCT\n\nMary PROPN\nsleeps VERB\n\n")
    out = tmp_path / "pos"
    assert _train({"iob": data}, "iob", out) == 2
    assert "data.scheme=none" in capsys.readouterr().err
    assert _train({"iob": data}, "iob", out, "--set", "data.scheme=none") == 0
    results = json.loads((out / "results.json").read_text())
    assert "f1" not in results["test"]["scores"]
    capsys.readouterr()
    model = str(out / "model.rnnkit")
    assert main(["evaluate", "--model", model, "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 5
    assert main(["predict", "--model", model, "--input", str(data)]) == 0
    tags = [line.split()[1] for line in capsys.readouterr().out.splitlines() if line]
    assert len(tags) == 5 and set(tags) <= {"PROPN", "VERB", "PUNCT"}


def test_evaluate_writes_predictions_in_the_format_the_data_was_read_in(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evaluate --format iob --out of a CoNLL-U model scored the file, then stopped with 'is
    not CoNLL-U (2 fields in a token line)': the predictions were written as the model's
    training data, not as the file read."""
    out = tmp_path / "pos"
    assert _train(files, "conllu", out, "--set", "data.scheme=none") == 0
    data = tmp_path / "pos.txt"
    data.write_text("John\tPROPN\nruns\tVERB\n.\tPUNCT\n\n")
    report = tmp_path / "report"
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(data),
                 "--format", "iob", "--out", str(report)]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 3
    written = (report / "test.predictions.iob").read_text().splitlines()
    assert [line.split("\t")[0] for line in written] == ["John", "runs", ".", ""]
    assert not (report / "test.predictions.conllu").exists()


def test_a_part_of_speech_model_reads_iob_files_and_iob_input_may_hold_placeholders(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CoNLL-U POS model refused a token/tag file ('tag 'PROPN' is not O, B-X ...; set
    data.scheme=none', which evaluate and predict have no way to set), and predict refused
    IOB input whose tag column held the placeholder '_'."""
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    data = tmp_path / "pos.txt"
    data.write_text("John\tPROPN\nruns\tVERB\n.\tPUNCT\n\n")
    raw = tmp_path / "raw.txt"
    raw.write_text("Mary\t_\nsleeps\t_\n\n")
    capsys.readouterr()
    assert main(["evaluate", "--model", model, "--data", str(data), "--format", "iob"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 3
    assert main(["predict", "--model", model, "--input", str(raw), "--format", "iob"]) == 0
    tagged = [line.split("\t") for line in capsys.readouterr().out.splitlines() if line]
    assert [token for token, _ in tagged] == ["Mary", "sleeps"] and "_" not in dict(tagged).values()
    assert main(["predict", "--model", model, "--input", str(files["conllu"]), "--format",
                 "iob"]) == 2  # not its IDs tagged into its MISC column
    assert "a CoNLL-U file, not token and tag columns" in capsys.readouterr().err
    ner = tmp_path / "ner"
    assert _train(files, "iob", ner) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(ner / "model.rnnkit"), "--input", str(raw)]) == 0
    assert all(tag in ("O", "B-PER", "I-PER", "B-LOC", "I-LOC") for tag in [
        line.split("\t")[1] for line in capsys.readouterr().out.splitlines() if line])


def test_predict_writes_an_existing_file_in_a_folder_it_cannot_write_in(
        files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--output is written in place, so a writable file in a folder of others' (/dev/null,
    /dev/stdout) takes the predictions; it was refused for its folder. A new file there,
    or a file that cannot be written, is still refused before the model loads."""
    import os

    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    model = str(out / "model.rnnkit")
    locked = tmp_path / "locked"
    locked.mkdir()
    mine, theirs = locked / "mine.txt", locked / "theirs.txt"
    mine.write_text("old\n")
    theirs.write_text("kept\n")
    access = os.access  # chmod does not stop root: the permissions are faked
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) not in (locked, theirs)
                        and access(path, mode))
    assert main(["predict", "--model", model, "--text", "Mary runs .", "--output",
                 str(mine)]) == 0
    assert [line.split("\t")[0] for line in mine.read_text().splitlines() if line] == \
        ["Mary", "runs", "."]
    assert main(["predict", "--model", model, "--text", "Mary runs .", "--output",
                 str(locked / "new.txt")]) == 2
    assert not (locked / "new.txt").exists()
    assert main(["predict", "--model", model, "--text", "Mary runs .", "--output",
                 str(theirs)]) == 2
    assert theirs.read_text() == "kept\n"


@pytest.mark.parametrize(("fmt", "chosen"), [("iob", "val_f1"), ("conllu", "val_accuracy")])
def test_the_default_monitor_is_span_f1_for_entities_and_accuracy_for_pos(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        fmt: str, chosen: str) -> None:
    out = tmp_path / "run"
    assert _train(files, fmt, out) == 0
    assert f"train.monitor=auto: {chosen} judges the epochs" in capsys.readouterr().out
    assert f'monitor = "{chosen}"' in (out / "config.toml").read_text()
    assert _train(files, fmt, out, "--resume", "--set", "train.epochs=3") == 0  # auto again
    assert _train(files, fmt, tmp_path / "mine", "--set", "train.monitor=val_loss",
                  "--set", "train.mode=min") == 0
    assert 'monitor = "val_loss"' in (tmp_path / "mine" / "config.toml").read_text()


def test_a_run_resumes_with_the_config_file_it_started_with(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """train.monitor=auto, saved as the metric it resolved to, was refused as a change:
    "--resume: train.monitor ('val_f1' -> 'auto') differs from the run"."""
    path = str(files["iob"])
    assert main(["train", "tagger", "--train", path, "--dev", path, "--test", path,
                 "--format", "iob", *TINY, "--print-config"]) == 0
    config = tmp_path / "mine.toml"
    config.write_text(capsys.readouterr().out)
    assert 'monitor = "auto"' in config.read_text()
    out = str(tmp_path / "run")
    assert main(["train", "tagger", "--config", str(config), "--out", out]) == 0
    assert main(["train", "tagger", "--config", str(config), "--out", out, "--resume",
                 "--set", "train.epochs=3"]) == 0
    assert "resumed from" in capsys.readouterr().out
    # another metric than the one the run resolved auto to is still a change
    assert main(["train", "tagger", "--config", str(config), "--out", out, "--resume",
                 "--set", "train.monitor=val_accuracy"]) == 2
    assert "train.monitor ('val_f1' -> 'val_accuracy') differs" in capsys.readouterr().err


def test_monitor_auto_with_mode_min_is_refused_before_the_data_is_read(
        capsys: pytest.CaptureFixture[str]) -> None:
    """auto picks val_f1 or val_accuracy, both better when higher: --print-config printed
    train.mode=min with it and exited 0, and a run (each --nproc process) read the data before
    the trainer refused 'val_accuracy' with mode min."""
    assert main(["train", "tagger", "--set", "train.mode=min", "--print-config"]) == 2
    assert "train.monitor=auto picks val_f1 or val_accuracy" in capsys.readouterr().err
    assert main(["train", "tagger", "--set", "train.mode=min", "--set", "train.monitor=val_loss",
                 "--print-config"]) == 0


def test_monitor_auto_is_refused_by_tasks_that_do_not_resolve_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "synthetic", "--set", "train.monitor=auto", "--print-config"]) == 2
    assert "train.monitor=auto is read by train tagger alone" in capsys.readouterr().err
    assert main(["train", "tagger", "--dataset", "ud_english_ewt", "--print-config"]) == 0


@pytest.mark.parametrize(("dataset", "task"), [("sst", "classification"),
                                               ("multi30k", "translation"),
                                               ("tinyshakespeare", "language model")])
def test_a_registry_dataset_of_another_task_is_refused_by_its_task(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    """train tagger --dataset sst said 'data.format must be one of conllu, iob' (no format was
    given) and --dataset multi30k gave advice for the Python API (use dataset_files)."""
    assert main(["train", "tagger", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a tagger reads tagging datasets "
            "(ud_english_ewt, uner_english_ewt, wnut17)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_tokens_per_second_counts_the_batches_of_an_epoch_cut_short(
        files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "pos"
    assert _train(files, "conllu", out, "--set", "train.batch_size=1",
                  "--set", "train.max_steps=1") == 0
    results = json.loads((out / "results.json").read_text())
    assert results["stopped"] == "max_steps" and results["epochs"] == 0
    assert results["tokens_per_second"] > 0  # was 0.0: only whole epochs were counted


def test_scheme_bioes_trains_with_a_dev_file_that_holds_no_entity(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a dev file of O tags only was refused as 'not spans (O)', as part of speech is;
    # data.scheme=bio trained on it
    dev = tmp_path / "dev.iob"
    dev.write_text("He\tO\nleft\tO\n\n")
    path = str(files["iob"])
    assert main(["train", "tagger", "--train", path, "--dev", str(dev), "--test", path,
                 "--format", "iob", "--out", str(tmp_path / "ner"), *TINY,
                 "--set", "data.scheme=bioes"]) == 0
    results = json.loads((tmp_path / "ner" / "results.json").read_text())
    assert results["dev"]["scores"]["f1"] == 0.0 and "unknown_gold_tags" not in results["dev"]


@pytest.mark.parametrize("scheme", ["bio", "bioes"])
def test_entities_of_another_tag_set_are_refused_though_o_is_shared(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        scheme: str) -> None:
    # a PER/LOC model on WNUT-17-like tags (person, location) scored F1 0 in silence: O, most
    # tokens, is in every entity tag set, so 'more than half the tokens' never held
    out = tmp_path / "ner"
    assert _train(files, "iob", out, "--set", f"data.scheme={scheme}") == 0
    model = str(out / "model.rnnkit")
    other = tmp_path / "other.iob"
    other.write_text(IOB.replace("-PER", "-person").replace("-LOC", "-location"))
    capsys.readouterr()
    assert main(["evaluate", "--model", model, "--data", str(other)]) == 2
    err = capsys.readouterr().err
    assert ("3 of the 3 test entity tokens carry tags the model never saw (B-location, "
            "B-person); it predicts B-LOC, B-PER") in err
    rare = tmp_path / "rare.iob"  # one unseen type among known ones is scored, and named
    rare.write_text(IOB.replace("Paris\tB-LOC", "Paris\tB-MISC"))
    assert main(["evaluate", "--model", model, "--data", str(rare)]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_gold_tags"] == ["B-MISC"]
    # training with such a test file is refused before it trains, not after
    path = str(files["iob"])
    assert main(["train", "tagger", "--train", path, "--dev", path, "--test", str(other),
                 "--format", "iob", "--out", str(tmp_path / "x"), *TINY]) == 2
    assert (f"3 of the 3 entity tokens of the test file {other} carry tags the training and "
            "dev data lack (B-location, B-person); theirs are B-LOC, B-PER") in \
        capsys.readouterr().err
    assert not (tmp_path / "x" / "model.rnnkit").exists()


def test_a_tag_named_like_the_padding_tag_is_a_clear_error(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # training said "unknown symbol '<pad>'; known: NNP, VBD" of a tag its own file holds,
    # and evaluate counted a gold '<pad>' as a tag the model knows (it never predicts it)
    padded = tmp_path / "pad.iob"
    padded.write_text("John\tNNP\nran\t<pad>\n\nMary\tNNP\nleft\tVBD\n\n")
    assert main(["train", "tagger", "--train", str(padded), "--dev", str(padded), "--test",
                 str(padded), "--format", "iob", "--out", str(tmp_path / "x"), *TINY,
                 "--set", "data.scheme=none"]) == 2
    assert (f"{padded}:2: the tag <pad> is the name of the tagger's padding tag; rename it in "
            "the data") in capsys.readouterr().err
    out = tmp_path / "pos"
    assert _train(files, "conllu", out) == 0
    gold = tmp_path / "gold.conllu"
    gold.write_text(CONLLU.replace("PUNCT", "<pad>"))
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(gold)]) == 0
    assert json.loads(capsys.readouterr().out)["unknown_gold_tags"] == ["<pad>"]


def test_scheme_none_reads_tags_as_they_are_when_only_some_look_like_spans(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # chunk tags beside others (B-NP, I-NP, VP) were read as entity spans: training stopped
    # with "tag 'VP' is not O, B-X, I-X, E-X or S-X", and the CRF forbade VP then I-NP
    from rnnkit.config import ModelConfig
    from rnnkit.data.tags import span_f1_available
    from rnnkit.data.vocab import Vocab
    from rnnkit.models.tagger import Tagger, TaggerConfig

    mixed = tmp_path / "mixed.iob"
    mixed.write_text("John\tB-NP\nran\tVP\nhome\tI-NP\n\nMary\tB-NP\nleft\tO\n\n")
    out = tmp_path / "mixed"
    assert main(["train", "tagger", "--train", str(mixed), "--dev", str(mixed), "--test",
                 str(mixed), "--format", "iob", "--out", str(out), *TINY,
                 "--set", "data.scheme=none"]) == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert set(results["test"]["scores"]) == {"accuracy"}
    assert not span_f1_available(["<pad>", "B-NP", "I-NP", "VP"])
    assert span_f1_available(["<pad>", "O", "B-PER", "I-PER"])
    assert not span_f1_available(["<pad>", "O"])
    tags = Vocab(["B-NP", "I-NP", "VP"], unknown=False)
    words = Vocab(["a"])
    model = Tagger(words, words, tags, TaggerConfig(), ModelConfig(hidden_size=4))
    assert model.crf is not None
    assert model.crf.penalty[1:, 1:].eq(0).all()  # VP then I-NP is allowed


def test_the_random_rows_of_a_tagger_s_pretrained_embeddings_follow_train_seed(
        tmp_path: Path) -> None:
    """prepare_embeddings was given train.seed for word2vec alone: the rows of the words
    without a vector and <unk> were drawn with seed 0 whatever the seed."""
    from rnnkit.data.tagged import TaggedSentence
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.tagger_embeddings import EmbeddingConfig, prepare_embeddings

    vectors = tmp_path / "v.txt"
    vectors.write_text("the 1 2\ncat 3 4\n")
    sentences = [TaggedSentence(["the", "cat", "dog"], ["O"] * 3)]
    words = Vocab.build([s.tokens for s in sentences])
    config = EmbeddingConfig(vectors=str(vectors), extend_vocab=0)
    first, second = (prepare_embeddings(config, words, sentences, 2, True, lambda line: None,
                                        seed=seed)[1] for seed in (0, 1))
    assert first is not None and second is not None
    assert torch.equal(first[[0, 2, 3]], second[[0, 2, 3]])  # <pad>, the, cat
    assert not torch.equal(first[1], second[1]) and not torch.equal(first[4], second[4])
