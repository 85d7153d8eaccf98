"""Classifier data: SST trees, text files, long numeric CSVs, bad input, the CLI end to end."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import SHARED_DATA

from rnnkit.cli import main
from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.numeric_sequences import read_numeric_sequences
from rnnkit.data.sst import parse_tree, read_trees, sst_examples
from rnnkit.data.text_labels import read_labelled_texts, truncate
from rnnkit.data.words import text_words
from rnnkit.models.classifier import ClassifierConfig
from rnnkit.pipelines.classifier_data import ClassifierDataConfig, label_order, read_examples

SHARED_SST = SHARED_DATA / "sst" / "dev.txt"
TREES = [
    "(3 (2 It) (4 (2 's) (3 (3 good) (2 fun))))",
    "(1 (2 A) (0 (0 dull) (2 -LRB-)))",
    "(2 (2 It) (2 exists))",
    "(4 (3 Great) (4 fun))",
]


def test_parse_tree_reads_words_and_every_phrase_label() -> None:
    tree = parse_tree(TREES[1])
    assert tree.tokens == ("A", "dull", "(") and tree.label == 1
    assert (1, 3, 0) in tree.phrases and tree.phrases[-1] == (0, 3, 1)
    for bad, message in (("(3 (2 a)", "never closed"), ("(7 a)", "label 0-4"),
                         ("(2 a))", "without"),
                         ("(3 (2 It) (4 good)) (1 bad)", r"outside the tree's brackets: '\(1 bad"),
                         ("(3 (2 It) (4 good)) extra", "outside the tree's brackets: 'extra'"),
                         ("so (3 (2 It) (4 good))", "outside the tree's brackets: 'so ")):
        with pytest.raises(ValueError, match=message):
            parse_tree(bad)


def test_a_line_with_text_after_its_tree_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    path.write_text(f"{TREES[0]}\n\n{TREES[1]} {TREES[3]}\n")
    with pytest.raises(ValueError, match=r"two.txt, line 3: text outside the tree's brackets"):
        read_trees(path)


def test_errors_quote_at_most_200_characters_of_a_long_line(tmp_path: Path) -> None:
    # a 50 MB line given as SST trees, or as a long CSV's header, was quoted whole: a 50 MB
    # error message
    line = "lorem ipsum, dolor sit amet, " * 10_000
    (tmp_path / "trees.txt").write_text(line + "\n")
    with pytest.raises(ValueError) as error:
        read_trees(tmp_path / "trees.txt")
    assert "line 1: text outside the tree's brackets: 'lorem ipsum, dolor" in str(error.value)
    assert len(str(error.value)) < 400
    (tmp_path / "long.csv").write_text(line + "\n1,2\n")
    with pytest.raises(ValueError) as error:
        read_numeric_sequences(tmp_path / "long.csv", time_column="step")
    assert "(columns: lorem ipsum, dolor sit amet, " in str(error.value)
    assert len(str(error.value)) < 500


def test_a_node_without_words_is_refused_and_tabs_separate_like_spaces(tmp_path: Path
                                                                       ) -> None:
    """'(3 (2) (4 good))' gave the empty phrase ([], 'neutral') as a training example, and a
    tab between two nodes was read as a word of the sentence (or as part of a label)."""
    path = tmp_path / "trees.txt"
    path.write_text(f"{TREES[0]}\n(3 (2) (4 good))\n")
    with pytest.raises(ValueError, match=r"trees.txt, line 2: a tree node holds no words: "
                                         r"\(2\)"):
        read_trees(path)
    assert parse_tree("(3 (2 a)\t(4 good))") == parse_tree("(3 (2 a) (4 good))")
    assert parse_tree("(3\t(2 a) (4 good))").label == 3
    assert parse_tree("(2 (2 8\xa01\\/2))").tokens == ("8\xa01\\/2",)  # as in SST's train


def test_sst2_drops_neutral_sentences_and_phrases_add_examples() -> None:
    trees = [parse_tree(line) for line in TREES]
    assert [label for _, label in sst_examples(trees, "sst5", False)] == [
        "positive", "negative", "neutral", "very positive"]
    assert [label for _, label in sst_examples(trees, "sst2", False)] == [
        "positive", "negative", "positive"]
    phrases = sst_examples(trees, "sst2", True)
    assert (["good"], "positive") in phrases and (["dull"], "negative") in phrases
    assert len({tuple(t) for t, _ in phrases}) == len(phrases)  # each phrase once


@pytest.mark.skipif(not SHARED_SST.exists(), reason="needs ../shared/data")
def test_real_sst_dev_file_counts() -> None:
    trees = read_trees(SHARED_SST)
    assert len(trees) == 1101 and len(sst_examples(trees, "sst2", False)) == 872


def test_text_files_in_every_format(tmp_path: Path) -> None:
    rows = [("Great fun!<br />Loved it", "pos"), ("Dull, and it isn't short.", "neg")]
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress("\n".join(
        json.dumps({"text": t, "label": y}) for t, y in rows).encode()))
    (tmp_path / "a.csv").write_text("text,label\n" + "\n".join(f'"{t}",{y}' for t, y in rows))
    (tmp_path / "a.tsv").write_text("text\tlabel\n" + "\n".join(f"{t}\t{y}" for t, y in rows))
    (tmp_path / "b.csv").write_text((tmp_path / "a.csv").read_text(), encoding="utf-8-sig")
    (tmp_path / "b.jsonl").write_text(gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes())
                                      .decode(), encoding="utf-8-sig")  # with a BOM
    for name in ("a.jsonl.gz", "a.csv", "a.tsv", "b.csv", "b.jsonl"):
        examples = read_labelled_texts(tmp_path / name)
        assert examples[0].tokens == ("great", "fun", "!", "loved", "it")
        assert examples[1].tokens[-4:] == ("is", "n't", "short", ".")
        assert [e.labels for e in examples] == [("pos",), ("neg",)]


@pytest.mark.parametrize(("name", "content", "error"), [
    ("bad.jsonl", '{"text": "fine", "label": "a"}\n{"text": "   ", "label": "b"}\n',
     r"bad.jsonl, line 2: the text is empty"),
    ("bad.jsonl", '{"review": "fine", "label": "a"}\n',
     r"needs the fields 'text' and 'label'.*found: review"),
    ("short.csv", "text,label\ngood film,pos\nbad film\nok film,neg\n",  # not label "None"
     r"short.csv, line 3: no label"),
    ("gaps.csv", "text,label\nhello,pos\n\n\nbye\n", r"gaps.csv, line 5: no label"),
    ("quoted.csv", 'text,label\n"two\nlines",pos\n"a\n\nb",\n', r"quoted.csv, line 4: the label "
     r"\('label'\) is empty; give it one or remove the row$"),  # it said no more than 'is empty'
    ("blank.tsv", "text\tlabel\ngood\tpos\nbad\t \n", r"blank.tsv, line 3: the label \('label'\) "
     "is empty; give it one"),
    ("gaps.tsv", "text\tlabel\n\n\t\ngood\tpos\n", r"gaps.tsv, line 3: the text is empty"),
    ("blank.csv", "\ntext,label\nhello,pos\n", r"blank.csv, line 1: blank, but the header .* "
     "must be on line 1"),
    ("bad.jsonl", '{"text": "fine", "label": null}\n', r"bad.jsonl, line 1: no label"),
    ("excel.csv", "\ufefftext;label\r\ngood;pos\r\n",  # a spreadsheet's ';' export
     r"excel.csv, line 2: .*found: text;label\); the header looks separated by ';'.*commas"),
    ("tabs.csv", "text\tlabel\ngood\tpos\n", r"separated by tabs.*--format tsv"),
    ("commas.tsv", "text,label\ngood,pos\n", r"separated by commas.*read separated by tabs"),
    # no header: the first row's text was taken for a field name to set in data.text_field
    ("nohead.tsv", "A tired, dull mess.\tnegative\ngreat\tpositive\n",
     r"nohead.tsv, line 2: .*; the file seems to have no header: line 1 is read as the column "
     r"names, but it looks like a row of data; add a header line above it naming the columns "
     r"'text' and 'label', such as text<TAB>label$"),
    ("nohead.csv", "great film,1\nbad film,0\n", r"no header: .*such as text,label$"),
    ("named.csv", "review text,sentiment\ngreat film,1\n",
     r"found: review text, sentiment\); set data.text_field / data.label_field$"),
])
def test_text_file_errors_name_the_row(tmp_path: Path, name: str, content: str,
                                       error: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=error):
        read_labelled_texts(tmp_path / name)


@pytest.mark.parametrize(("name", "content", "error"), [
    # an unquoted comma: read as text 'good' with the label ' not great', 'pos' dropped
    ("comma.csv", "text,label\nfine,neg\ngood, not great,pos\n",
     r"comma.csv, line 3: 3 fields where the header has 2.*quote a text that holds a comma"),
    ("first.csv", "label,text\npos,good, not great\n", r"first.csv, line 2: 3 fields"),
    ("texts.csv", "text\nhello\ngood, not great\n", r"texts.csv, line 3: 2 fields"),
    ("tab.tsv", "text\tlabel\ngood\tnot great\tpos\n",
     r"tab.tsv, line 2: 3 fields where the header has 2.*replace the tabs within the text"),
    ("excel.csv", "text;label\ngood, really;pos\n",  # the separator, not the field count
     r"excel.csv, line 2: needs the fields .*the header looks separated by ';'"),
])
def test_a_row_of_more_fields_than_the_header_is_refused(tmp_path: Path, name: str,
                                                         content: str, error: str) -> None:
    """The fields beyond the header's were dropped in silence, and the row read shifted."""
    (tmp_path / name).write_text(content)
    with pytest.raises(ValueError, match=error):
        read_labelled_texts(tmp_path / name, labelled=name != "texts.csv")


@pytest.mark.parametrize(("content", "error"), [
    # an array of examples said to set data.text_field / data.label_field (found: list)
    ('[{"text": "good", "label": "pos"}, {"text": "bad", "label": "neg"}]\n',
     r"line 1: a JSON array, not an object with the fields 'text' and 'label'; a JSON-lines "
     r"file holds one whole JSON object a line"),
    ('"good film"\n', r"line 1: a JSON string, not an object"),
    # pretty-printed: 'not JSON (Expecting value: line 2 column 1 (char 2))', nothing more
    ('[\n  {"text": "good", "label": "pos"}\n]\n', r"line 1: not JSON \(.*\); a JSON-lines "
     r"file holds one whole JSON object a line"),
])
def test_a_json_file_that_is_not_json_lines_says_so(tmp_path: Path, content: str, error: str
                                                     ) -> None:
    (tmp_path / "examples.json").write_text(content)
    with pytest.raises(ValueError, match=error) as raised:
        read_labelled_texts(tmp_path / "examples.json")
    assert "data.text_field" not in str(raised.value)


def test_a_json_array_or_object_as_a_label_or_text_is_not_read_as_its_python_text(
        tmp_path: Path) -> None:
    """{"label": ["a", "b"]} trained the class "['a', 'b']" (with data.label_separator="|" too),
    and a text given as an array of words was tokenized with its brackets and quotes."""
    path = tmp_path / "l.jsonl"
    path.write_text('{"text": "good", "label": ["a", "b"]}\n{"text": "bad", "label": []}\n')
    assert [e.labels for e in read_labelled_texts(path, label_separator="|")] == [("a", "b"), ()]
    with pytest.raises(ValueError, match=r"l.jsonl, line 1: the label is a JSON array "
                                         r'\(\["a", "b"\]\).*set data.label_separator'):
        read_labelled_texts(path)
    path.write_text('{"text": "good", "label": {"name": "a"}}\n')
    with pytest.raises(ValueError, match=r"line 1: the label is a JSON object"):
        read_labelled_texts(path, label_separator="|")
    path.write_text('{"text": ["good", "film"], "label": "a"}\n')
    with pytest.raises(ValueError, match=r"line 1: the text \('text'\) is a JSON array"):
        read_labelled_texts(path)


def test_a_header_naming_a_read_column_twice_is_refused(tmp_path: Path) -> None:
    """text,text,label read the second column's text alone, the first lost in silence."""
    path = tmp_path / "twice.csv"
    path.write_text("text,text,label\ngood film,bad film,pos\n")
    with pytest.raises(ValueError, match=r"twice.csv, line 1: the header names column 'text' 2 "
                                         r"times.*give every column its own name"):
        read_labelled_texts(path)
    path.write_text("text,note,note,label\ngood film,a,b,pos\n")  # 'note' is not read
    assert read_labelled_texts(path)[0].labels == ("pos",)


def test_a_header_without_a_field_read_says_so_before_counting_fields(tmp_path: Path) -> None:
    path = tmp_path / "no-label.csv"  # the header lacks 'label': that is what to fix
    path.write_text("text\ngood film,pos\n")
    with pytest.raises(ValueError, match=r"line 2: needs the fields 'text' and 'label' "
                                         r"\(found: text\)"):
        read_labelled_texts(path)


def test_a_text_of_more_words_than_one_text_may_hold_names_its_line(tmp_path: Path) -> None:
    # a 50 MB text (a whole file in one field) took more than 14 GB and ran on; kept to
    # data.max_tokens words, it is read
    path = tmp_path / "t.csv"
    path.write_text("text,label\ngood,pos\n" + f'"{"so very long " * 33_334}",neg\n')
    with pytest.raises(ValueError, match=r"t.csv, line 3: a text of 100,002 words, more than "
                                         r"one text may hold \(100,000; is it a whole file on "
                                         r"one line\?\); split it"):
        read_labelled_texts(path)
    assert len(read_labelled_texts(path, max_tokens=500)[1].tokens) == 500


def test_empty_fields_beyond_the_header_are_no_error(tmp_path: Path) -> None:
    path = tmp_path / "trailing.csv"  # a spreadsheet's trailing separators
    path.write_text("text,label\ngood film,pos,,\nbad film,neg,\n")
    assert [e.labels for e in read_labelled_texts(path)] == [("pos",), ("neg",)]


def test_spaces_around_header_names_are_not_part_of_them(tmp_path: Path) -> None:
    path = tmp_path / "spaced.csv"
    path.write_text("text , label \nhello,pos\n")
    assert read_labelled_texts(path)[0].labels == ("pos",)


def test_multi_label_text_files(tmp_path: Path) -> None:
    multi = tmp_path / "multi.csv"
    multi.write_text('text,label\n"a b",x|y\n')
    assert read_labelled_texts(multi, label_separator="|")[0].labels == ("x", "y")


def test_a_tsv_file_keeps_its_quotes_as_text(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"  # TSV has no quoting (GLUE's files): a quote is a character
    path.write_text('text\tlabel\n"the best" movie ever\tpos\nit is 12" tall\tneg\n'
                    '"unbalanced quote start\tneg\nfine film\tpos\n')
    examples = read_labelled_texts(path)
    assert [e.labels for e in examples] == [("pos",), ("neg",), ("neg",), ("pos",)]
    assert examples[2].tokens[-3:] == ("unbalanced", "quote", "start")


def test_a_tsv_file_quoted_by_a_csv_writer_is_read_unquoted(tmp_path: Path) -> None:
    """pandas' to_csv(sep="\\t") quotes a text holding a quote (doubled inside) or a line
    break: 195 of 400 IMDB reviews were read with a stray '"' token at each end and every quote
    of the text doubled, and a text across lines was refused as a row without its label."""
    rows = [('He said "wow", then left.', "pos"), ("first line\nsecond line", "neg"),
            ("no quotes at all", "pos"), ('"Titanic" again', "neg")]
    path = tmp_path / "pandas.tsv"
    with path.open("w", newline="") as file:  # as pandas writes it
        writer = csv.writer(file, delimiter="\t", lineterminator="\n")
        writer.writerows([("text", "label"), *rows])
    assert '"He said ""wow"", then left."' in path.read_text()
    examples = read_labelled_texts(path, lowercase=False)
    assert [e.tokens for e in examples] == [tuple(text_words(text)) for text, _ in rows]
    assert [e.labels for e in examples] == [(label,) for _, label in rows]
    # one stray quote that no writer would write: the file keeps its quotes as text
    lines = path.read_text().split("\n")
    path.write_text("\n".join([lines[0], lines[1], '"unbalanced start\tneg', ""]))
    assert [e.tokens[:3] for e in read_labelled_texts(path)] == [
        ('"', "he", "said"), ('"', "unbalanced", "start")]


def test_truncation_keeps_head_tail_or_both() -> None:
    tokens = list("abcdefgh")
    assert truncate(tokens, 3, "head") == ["a", "b", "c"]
    assert truncate(tokens, 3, "tail") == ["f", "g", "h"]
    assert truncate(tokens, 3, "head_tail") == ["a", "b", "h"]
    assert truncate(tokens, 0, "head") == tokens


def test_long_csv_sequences_order_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,step,x,y,label\nb,1,2,20,up\na,0,1,10,down\nb,0,1,10,up\n")
    sequences, names = read_numeric_sequences(path, time_column="step")
    assert names == ["x", "y"] and [s.id for s in sequences] == ["b", "a"]
    assert sequences[0].features.tolist() == [[1, 10], [2, 20]] and len(sequences[1].features) == 1
    path.write_text("id,x,label\na,1.5,up\na,oops,up\n")
    with pytest.raises(ValueError, match=r"s.csv, line 3: column 'x' holds 'oops', not a number"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,1.5,up\n\n\na,oops,up\n")  # blank lines are counted
    with pytest.raises(ValueError, match=r"s.csv, line 5: column 'x' holds 'oops'"):
        read_numeric_sequences(path)
    path.write_bytes(b"id,x,label\na,1.5,caf\xe9\n")
    with pytest.raises(ValueError, match=r"s.csv:2: not UTF-8 text"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,nan,up\n")
    with pytest.raises(ValueError, match="fill missing values"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,1,up\na,2,down\n")
    with pytest.raises(ValueError, match="one label per sequence"):
        read_numeric_sequences(path)
    path.write_text("id,step,x,label\na,0,1,up\na,1,2,up\na,1,3,up\n")
    with pytest.raises(ValueError, match="sequence 'a' has two rows at step 1; one row per"):
        read_numeric_sequences(path, time_column="step")
    path.write_text("id,x,label\na,1,up\n,2,up\nb,3,up\n ,4,up\n")  # rows 3 and 5: one sequence
    with pytest.raises(ValueError, match=r"s.csv, line 3: column 'id' is empty; give every row "
                                         r"the id of its sequence"):
        read_numeric_sequences(path)
    path.write_text("id,x,label\na,1,up\na ,2,up\n")  # an id written with a space: one sequence
    assert [s.id for s in read_numeric_sequences(path)[0]] == ["a"]
    path.write_text("id,step,x,label\na,1420070401,1,up\nb,1420070401,1,up\na,1420070400,2,"
                    "up\n\na,1420070401,3,up\n")  # a step that %g wrote 1.42007e+09
    with pytest.raises(ValueError, match=r"s.csv, lines 2 and 6: sequence 'a' has two rows at "
                                         r"step 1420070401; one row per time step"):
        read_numeric_sequences(path, time_column="step")


def _write_texts(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps({"text": t, "label": y}) for t, y in rows) + "\n")
    return path


POSITIVE = ["great fun film", "loved it", "a great cast", "fun and warm"]
NEGATIVE = ["dull bad film", "hated it", "a bad cast", "dull and cold"]


def test_cli_trains_predicts_and_refuses_unknown_labels(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    train = _write_texts(tmp_path / "train.jsonl", rows * 3)
    dev = _write_texts(tmp_path / "dev.jsonl", rows)
    out = tmp_path / "run"
    settings = ["--set", "train.epochs=20", "--set", "train.lr=0.02", "--set",
                "train.batch_size=4", "--set", "classifier.embedding_dropout=0.0", "--set",
                "train.patience=0", "--set", "train.lr_patience=0", "--set",
                "model.hidden_size=8", "--set", "classifier.word_dim=8", "--set",
                "train.progress=false", "--set", "train.device=cpu", "--set",
                "classifier.pooling=attention", "--set", "classifier.class_weights=balanced"]
    assert main(["train", "classifier", "--train", str(train), "--dev", str(dev),
                 "--test", str(dev), "--out", str(out), *settings]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["test"]["scores"]["accuracy"] == 1.0
    capsys.readouterr()
    long_text = " ".join(["great fun"] * 200)  # far longer than any training text
    assert main(["predict", "--model", str(out / "model.rnnkit"),
                 "--text", f"a great cast\nhated it\n{long_text}"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["label"] for line in lines] == ["pos", "neg", "pos"]
    assert set(lines[0]["probabilities"]) == {"neg", "pos"}
    assert sum(lines[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text", "<br />"]) == 2
    assert "no words to classify" in capsys.readouterr().err
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--text",
                 "a great cast\n\nhated it\n   \n<br />\nfine"]) == 2  # blank lines count
    assert "line 5 has no words to classify: '<br />'" in capsys.readouterr().err
    whole_file = tmp_path / "one_line.txt"  # a whole file on one line: 14 GB and no end
    whole_file.write_text("a great cast\n" + "fun and warm " * 33_334)
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input",
                 str(whole_file)]) == 2
    assert (f"{whole_file}, line 2: a text of 100,002 words, more than one text may hold "
            "(100,000; is it a whole file on one line?)") in capsys.readouterr().err
    old_mac = tmp_path / "old_mac.txt"  # CR line endings: read as one text of two reviews
    old_mac.write_bytes(b"a great cast\r\nfine\rhated it\r")
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(old_mac)]) == 2
    assert f"{old_mac}:2: a carriage return (\\r) within the line" in capsys.readouterr().err
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(dev)]) == 0
    read = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(read) == len(rows)  # a JSONL file: its text field, one row each, not its lines
    assert [line["input"] for line in read][:1] == [" ".join(rows[0][0].lower().split())]
    from rnnkit.pipelines.classifier import load_classifier_bundle
    from rnnkit.pipelines.classifier_data import ClassifierDataConfig
    from rnnkit.training.bundle import save_bundle

    assert ClassifierDataConfig(dataset="imdb").label_names() == {"0": "negative",
                                                                  "1": "positive"}
    coded = load_classifier_bundle(out / "model.rnnkit")  # as if trained on a coded dataset
    coded.data["label_names"] = {"0": "neg", "1": "pos"}
    save_bundle(coded, tmp_path / "coded.rnnkit")
    codes = _write_texts(tmp_path / "codes.jsonl", [(t, "1") for t in POSITIVE])
    assert main(["evaluate", "--model", str(tmp_path / "coded.rnnkit"), "--data",
                 str(codes)]) == 0  # a file in the dataset's own format: its codes named
    assert json.loads(capsys.readouterr().out)["scores"]["accuracy"] == 1.0
    odd = _write_texts(tmp_path / "odd.jsonl", [("fine film", "pos"), ("fine film", "meh")])
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(odd)]) == 2
    assert ("labels the model never saw in training: ['meh'] (1 of its 2 examples; the first is "
            "example 2)") in capsys.readouterr().err  # which, in a file of thousands
    assert main(["train", "classifier", "--train", str(train), "--dev", str(odd),
                 "--out", str(tmp_path / "r2"), *settings]) == 2
    assert "the dev data has labels the model never saw" in capsys.readouterr().err
    marked = tmp_path / "marked.txt"
    marked.write_bytes("\ufeffa great cast\n".encode())
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(marked)]) == 0
    assert json.loads(capsys.readouterr().out)["input"] == "a great cast"  # no byte-order mark
    packed = tmp_path / "reviews.txt.gz"  # read as its gzip bytes: 'not UTF-8 text'
    packed.write_bytes(gzip.compress(b"a great cast\nhated it\n"))
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(packed)]) == 0
    assert [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()] == [
        "pos", "neg"]  # decompressed, as the data readers and translate --input read a .gz
    tree = tmp_path / "tree.txt"
    tree.write_text("(3 (2 a) (4 great))\n")
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data", str(tree)]) == 2
    error = capsys.readouterr().err  # it said 'the file was read as auto, the format ...'
    assert "(the file was read in the format its name says, as the model's training files " \
        "were; if it is in another, pass --format: jsonl, csv, tsv, sst" in error
    renamed = tmp_path / "renamed.jsonl"  # keys other than the model's: no --set to name them
    renamed.write_text(json.dumps({"review": "a great cast", "label": "pos"}) + "\n")
    for command in (["predict", "--input"], ["evaluate", "--data"]):
        assert main([command[0], "--model", str(out / "model.rnnkit"), command[1],
                     str(renamed)]) == 2
        error = capsys.readouterr().err
        assert "rename the file's columns (or JSON keys)" in error
        assert "set data.text_field" not in error


def test_cli_numeric_classifier_scales_with_training_statistics(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines, swapped = ["id,step,level,noise ,label"], ["id,step,noise,level,label"]
    for index in range(24):
        label = "high" if index % 2 else "low"
        base = 1000.0 if label == "high" else 0.0
        for step in range(2 + index % 4):
            noise = 0.0  # uninformative: only its position could mislead a model
            lines.append(f"s{index},{step},{base + step},{noise},{label}")
            swapped.append(f"s{index},{step},{noise},{base + step},{label}")
    data = tmp_path / "train.csv"
    data.write_text("\n".join(lines) + "\n")
    (tmp_path / "swapped.csv").write_text("\n".join(swapped) + "\n")
    (tmp_path / "partial.csv").write_text("id,step,level,label\ns0,0,1.0,low\n")
    out = tmp_path / "run"
    assert main(["train", "classifier", "--train", str(data), "--format", "numeric",
                 "--out", str(out), "--set", "data.time_column=step", "--set",
                 "train.epochs=40", "--set", "train.lr=0.02", "--set", "model.hidden_size=8",
                 "--set", "classifier.pooling=last", "--set", "train.progress=false",
                 "--set", "train.device=cpu", "--set", "data.dev_fraction=0.25", "--set",
                 "train.batch_size=6", "--set", "train.patience=0", "--set",
                 "train.lr_patience=0", "--set", "train.monitor=val_loss", "--set",
                 "train.mode=min"]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input", str(data)]) == 0
    predicted = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["label"] for p in predicted] == ["high" if i % 2 else "low" for i in range(24)]
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input",
                 str(tmp_path / "swapped.csv")]) == 0  # the columns are read by name
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == predicted
    assert main(["evaluate", "--model", str(out / "model.rnnkit"), "--data",
                 str(tmp_path / "partial.csv")]) == 2
    error = capsys.readouterr().err  # evaluate and predict take no --set: rename the columns
    assert "no column ['noise']" in error and "set data." not in error
    assert "rename the file's columns" in error
    assert main(["predict", "--model", str(out / "model.rnnkit"), "--input",
                 str(tmp_path / "partial.csv")]) == 2
    error = capsys.readouterr().err
    assert "no column ['noise']" in error and "set data." not in error
    assert "rename the file's columns" in error
    for setting, message in (("data.label_separator=|", "data.label_separator is for text"),
                             ("data.dev_fraction=0.99", "too few to hold out")):
        assert main(["train", "classifier", "--train", str(tmp_path / "partial.csv"),
                     "--format", "numeric", "--out", str(tmp_path / "bad"), "--set",
                     setting]) == 2
        assert message in capsys.readouterr().err


def _train_sst2(tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    """A tiny SST-2 classifier trained on :data:`TREES`: its bundle and the tree file."""
    trees = tmp_path / "trees.txt"
    trees.write_text("\n".join(TREES * 3) + "\n")
    out = tmp_path / "run"
    assert main(["train", "classifier", "--train", str(trees), "--dev", str(trees),
                 "--format", "sst", "--out", str(out), "--set", "data.sst_labels=sst2",
                 "--set", "train.epochs=1", "--set", "model.hidden_size=4", "--set",
                 "classifier.word_dim=4", "--set", "train.progress=false", "--set",
                 "train.device=cpu", *extra]) == 0
    return out / "model.rnnkit", trees


def test_cli_sst2_model_evaluates_sst_trees_as_it_was_trained(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, trees = _train_sst2(tmp_path, "--set", "data.phrases=true")
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(trees)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["examples"] == 9  # the neutral sentence is dropped, as in training
    assert result["confusion"]["labels"] == ["negative", "positive"]


def test_cli_predict_refuses_sst_trees_given_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file of SST trees given to predict was classified as raw text, brackets and node
    labels read as words, with no sign that anything was wrong."""
    model, trees = _train_sst2(tmp_path)
    capsys.readouterr()
    assert main(["predict", "--model", str(model), "--input", str(trees)]) == 2
    error = capsys.readouterr().err
    assert "line 1 is an SST tree, not a text" in error
    assert "rnnkit evaluate --model M --data FILE" in error
    text = tmp_path / "texts.txt"  # brackets in a text are still text
    text.write_text("(5 stars) great fun\n(3 (2 It) (4 good)) and more\n(4 out of 5)\n")
    assert main(["predict", "--model", str(model), "--input", str(text)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # '(4 out of 5)' was refused


@pytest.mark.skipif(not SHARED_SST.exists(), reason="needs ../shared/data")
def test_cli_evaluate_reads_a_registry_dataset_split(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, mirror = str(_train_sst2(tmp_path)[0]), str(SHARED_SST.parents[1])
    capsys.readouterr()
    assert main(["evaluate", "--model", model, "--data", "sst", "--split", "dev",
                 "--data-dir", mirror, "--out", str(tmp_path / "eval")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["examples"] == 872  # SST-2 dev: the model's sst2 labels, neutral dropped
    assert json.loads((tmp_path / "eval" / "dev.json").read_text()) == result
    assert (tmp_path / "eval" / "dev_confusion.png").stat().st_size > 0
    assert result["confusion"]["labels"] == ["negative", "positive"]
    assert main(["evaluate", "--model", model, "--data", "sst", "--split", "valid",
                 "--data-dir", mirror]) == 2
    assert "--split 'valid': sst has the splits train, dev, test" in capsys.readouterr().err


def test_cli_multi_label_and_regression_files(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rows = [("great fun film", "good|fun", "4.5"), ("dull bad film", "bad", "1.0"),
            ("fun and warm", "fun", "4.0"), ("a bad cast", "bad", "1.5")] * 4
    data = tmp_path / "d.csv"
    data.write_text("text,tags,stars\n" + "\n".join(f'"{t}",{g},{s}' for t, g, s in rows))
    common = ["train", "classifier", "--train", str(data), "--dev", str(data), "--set",
              "train.epochs=25", "--set", "train.lr=0.02", "--set", "train.batch_size=4",
              "--set", "model.hidden_size=8", "--set", "classifier.word_dim=8", "--set",
              "classifier.embedding_dropout=0.0", "--set", "classifier.output_dropout=0.0",
              "--set", "train.patience=0", "--set", "train.lr_patience=0", "--set",
              "train.progress=false", "--set", "train.device=cpu"]
    assert main([*common, "--out", str(tmp_path / "multi"), "--set", "data.label_field=tags",
                 "--set", 'data.label_separator="|"', "--set", "classifier.output=sigmoid",
                 "--set", "train.monitor=val_micro_f1"]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "multi" / "model.rnnkit"),
                 "--text", "great fun film"]) == 0
    assert json.loads(capsys.readouterr().out)["labels"] == ["fun", "good"]
    assert main(["evaluate", "--model", str(tmp_path / "multi" / "model.rnnkit"),
                 "--data", str(data)]) == 0  # read with the model's label separator
    assert json.loads(capsys.readouterr().out)["examples"] == len(rows)
    assert main(["predict", "--model", str(tmp_path / "multi" / "model.rnnkit"),
                 "--input", str(data), "--format", "csv"]) == 2
    assert "reads one text per line (--format text); to score a labelled file, use rnnkit " \
        "evaluate" in capsys.readouterr().err
    assert main([*common, "--out", str(tmp_path / "reg"), "--set", "data.label_field=stars",
                 "--set", "classifier.output=linear", "--set", "train.monitor=val_loss",
                 "--set", "train.mode=min"]) == 0
    results = json.loads((tmp_path / "reg" / "results.json").read_text())
    assert results["dev"]["scores"]["rmse"] < 0.5
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "reg" / "model.rnnkit"),
                 "--text", "dull bad film"]) == 0
    assert json.loads(capsys.readouterr().out)["values"]["stars"] < 2.5


def test_cli_refuses_several_labels_per_example_without_a_sigmoid(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    data.write_text("text,tags\ngreat fun,good|fun\ndull,bad\n")
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--out",
                 str(tmp_path / "run"), "--set", "data.label_field=tags", "--set",
                 'data.label_separator="|"', "--set", "train.device=cpu"]) == 2
    assert "need classifier.output=sigmoid, one probability per label; got 'softmax'" in \
        capsys.readouterr().err
    assert not (tmp_path / "run" / "model.rnnkit").exists()


def test_imdb_coded_labels_are_named(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        for label, text in ((0, "dull and long"), (1, "a delight")):
            file.write(json.dumps({"id": "x", "rating": 1, "label": label, "text": text}) + "\n")
    data = ClassifierDataConfig(dataset="imdb")
    examples = read_examples(data, path, training=True)
    assert [e.labels for e in examples] == [("negative",), ("positive",)]
    assert label_order(data, {"negative", "positive"}) == ["negative", "positive"]


def test_cli_evaluate_and_predict_name_their_flags(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    data = _write_texts(tmp_path / "train.jsonl", rows)
    out = tmp_path / "run"
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data), "--out",
                 str(out), "--set", "train.epochs=1", "--set", "model.hidden_size=4", "--set",
                 "classifier.word_dim=4", "--set", "train.progress=false", "--set",
                 "train.device=cpu", "--set", "train.threads=1"]) == 0
    model = str(out / "model.rnnkit")
    capsys.readouterr()
    missing = str(tmp_path / "missing.jsonl")
    refused = [
        (["evaluate", "--data", str(data), "--format", "conllu"],
         "--format must be one of auto, jsonl, csv, tsv, sst, numeric; got 'conllu'"),
        (["evaluate", "--data", missing], "--data " + missing + ": no such file"),
        (["predict", "--input", missing], "--input " + missing + ": no such file"),
    ]
    for command, message in refused:
        assert main([command[0], "--model", model, *command[1:]]) == 2
        assert message in capsys.readouterr().err
    written = tmp_path / "new" / "labels.jsonl"  # a folder that does not exist yet
    assert main(["predict", "--model", model, "--text", "fun film", "--output",
                 str(written)]) == 0
    assert json.loads(written.read_text())["input"] == "fun film"


def test_a_field_longer_than_the_csv_module_s_default_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text('text,label\n"' + "word " * 40_000 + '",pos\n', encoding="utf-8")
    (example,) = read_labelled_texts(path)
    assert len(example.tokens) == 40_000 and example.labels == ("pos",)


def _sst_file(path: Path, count: int, labels: tuple[int, ...] = (0, 4)) -> Path:
    words = ["good", "fun", "dull", "film", "cast", "plot", "sharp", "slow"]
    lines = []
    for i in range(count):  # each sentence's words are its own: a phrase names its tree
        a, b, c = (f"{words[(i + k) % len(words)]}{i}" for k in range(3))
        label = labels[i % len(labels)]
        lines.append(f"({label} ({label} {a}) ({label} ({label} {b}) ({label} {c})))")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sst_without_a_dev_file_holds_out_whole_sentences(tmp_path: Path) -> None:
    from rnnkit.pipelines.classifier_data import read_splits

    data = ClassifierDataConfig(train=str(_sst_file(tmp_path / "train.txt", 40)), format="sst",
                                sst_labels="sst2", phrases=True, dev_fraction=0.25)
    splits = read_splits(data, seed=0, log=lambda line: None)
    dev, train = splits["dev"], splits["train"]
    assert len(dev) == 10 and all(len(e.tokens) == 3 for e in dev)  # sentences, no phrases
    def sentences(examples: list) -> set[str]:  # the numbers in the words: their sentences
        return {token.lstrip("abcdefghijklmnopqrstuvwxyz") for e in examples for token in e.tokens}

    assert len(sentences(dev)) == 10 and not sentences(dev) & sentences(train)
    assert len(train) > 30 * 3  # phrases of the 30 training sentences


def test_sst2_holds_out_sentences_it_can_label(tmp_path: Path) -> None:
    from rnnkit.pipelines.classifier_data import read_splits

    mostly_neutral = _sst_file(tmp_path / "train.txt", 30, labels=(2, 2, 4))  # SST-2 drops 2
    for seed in range(6):
        data = ClassifierDataConfig(train=str(mostly_neutral), format="sst", sst_labels="sst2",
                                    dev_fraction=0.1)
        splits = read_splits(data, seed=seed, log=lambda line: None)
        assert len(splits["dev"]) == 1 and len(splits["train"]) == 9  # of the 10 positives


def test_sst_texts_are_cut_to_max_tokens_as_predict_cuts_them(tmp_path: Path) -> None:
    data = ClassifierDataConfig(train=str(_sst_file(tmp_path / "train.txt", 4)), format="sst",
                                sst_labels="sst2", max_tokens=2)
    assert {len(e.tokens) for e in read_examples(data, tmp_path / "train.txt", True)} == {2}


def test_an_sst_file_with_no_tree_or_only_neutral_ones_is_refused_by_name(tmp_path: Path) -> None:
    from rnnkit.pipelines.classifier_data import read_splits

    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ValueError, match=r"empty.txt holds no trees \(is this the right file"):
        read_trees(empty)
    neutral = tmp_path / "neutral.txt"
    neutral.write_text("(2 (2 It) (2 exists))\n(2 (3 Great) (1 dull))\n")
    sst2 = ClassifierDataConfig(train=str(neutral), format="sst", sst_labels="sst2")
    for phrases in (False, True):  # the second tree's phrases are not neutral
        with pytest.raises(ValueError, match=r"neutral.txt holds no sentence that SST-2 can "
                                             r"label.*or set data.sst_labels=sst5"):
            read_examples(replace(sst2, phrases=phrases), neutral, training=False)
    with pytest.raises(ValueError, match=r"neutral.txt holds no sentence that SST-2 can label"):
        read_splits(replace(sst2, phrases=True), seed=0, log=lambda line: None)  # no dev file
    assert len(read_examples(replace(sst2, sst_labels="sst5"), neutral, training=False)) == 2


def test_cli_refuses_an_empty_sst_test_file_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = _sst_file(tmp_path / "train.txt", 8)
    (tmp_path / "empty.txt").write_text("")
    code = main(["train", "classifier", "--train", str(train), "--dev", str(train), "--test",
                 str(tmp_path / "empty.txt"), "--format", "sst", "--out", str(tmp_path / "run"),
                 "--set", "train.epochs=1"])
    assert code == 2 and "empty.txt holds no trees" in capsys.readouterr().err


@pytest.mark.parametrize("name, text", [
    ("trees.txt", "(3 (2 It) (4 good))\r\n(1 (2 It) (1 dull))\r\n(4 (2 A) (4 caf\xe9))\r\n"),
    ("texts.csv", "text,label\nfine film,pos\n\"a caf\xe9\nfilm\",pos\n"),
    ("texts.tsv", "text\tlabel\n\ncaf\xe9 film\tpos\nfine film\tpos\n"),
    ("texts.jsonl", '{"text": "fine", "label": "a"}\n\n{"text": "caf\xe9", "label": "a"}\n'),
    ("texts.jsonl.gz", '{"text": "fine", "label": "a"}\n\n{"text": "caf\xe9", "label": "a"}\n'),
])
def test_a_file_that_is_not_utf8_names_the_file_and_line(tmp_path: Path, name: str,
                                                         text: str) -> None:
    from rnnkit.data.tagged import DataFormatError

    def save(raw: bytes) -> None:
        path.write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)

    path = tmp_path / name
    save(text.encode("latin-1"))  # \xe9 is a UTF-8 lead byte, not a character
    read = read_trees if name.endswith(".txt") else read_labelled_texts
    with pytest.raises(DataFormatError, match=rf"{name}:3: not UTF-8 text \(.*\); it reads as "
                                              r"Windows-1252 \(Latin-1\) text, .*caf.* there: "
                                              "save the file as UTF-8"):
        read(path)
    save(b"\xef\xbb\xbf" + text.replace("\xe9", "e").encode())  # a byte-order mark is no text
    assert len(read(path)) == (3 if name.endswith(".txt") else 2)


HEADER = "id,step,temp,wind,label\n"


@pytest.mark.parametrize(("row", "fields"), [
    ("b,0,20,3,1.1,sun", 6),  # an unquoted decimal comma: read as label '1.1', 'sun' dropped
    ("b,0,20.3,sun", 4),
    ("b", 1),  # was a TypeError from float(None)
])
def test_numeric_row_with_the_wrong_number_of_fields_is_refused(
    tmp_path: Path, row: str, fields: int
) -> None:
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "a,0,12.1,3.2,rain\n" + row + "\n", encoding="utf-8")
    written = f"{fields} field{'s' * (fields != 1)}"  # '1 field': was '1 fields'
    with pytest.raises(ValueError, match=f"line 3: {written} where the header has 5"):
        read_numeric_sequences(path, time_column="step")


def test_numeric_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"  # both 'temp' features were read as 3.0, the 12.1 lost
    path.write_text("id,step,temp,temp,label\na,0,12.1,3,rain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="names column 'temp' twice"):
        read_numeric_sequences(path, time_column="step")
    path.write_text("id,step,temp,note,note,label\na,0,12.1,x,y,rain\n", encoding="utf-8")
    sequences, names = read_numeric_sequences(path, time_column="step",  # 'note' is not read
                                              feature_columns=["temp"])
    assert names == ["temp"] and sequences[0].features.tolist() == [[12.1]]


def test_numeric_input_to_predict_may_have_any_labels(tmp_path: Path) -> None:
    """rnnkit predict reads a long CSV unlabelled (the label column may be missing), but one
    whose label column changed within a sequence (a per-step annotation) was refused as
    'one label per sequence', a rule for training data."""
    path = tmp_path / "long.csv"
    path.write_text(HEADER + "a,0,12.1,3.2,rain\na,1,11.0,4.0,sun\n", encoding="utf-8")
    sequences, _ = read_numeric_sequences(path, time_column="step", labelled=False)
    assert sequences[0].features.tolist() == [[12.1, 3.2], [11.0, 4.0]]
    with pytest.raises(ValueError, match="one label per sequence"):
        read_numeric_sequences(path, time_column="step")


def test_numeric_time_column_of_dates_names_the_time_setting(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"  # the hint was to leave 'date' out of data.feature_columns
    path.write_text("id,date,temp,label\na,2012-01-01,1,rain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds '2012-01-01', not a number; data.time_column "
                                         "orders the steps by number") as error:
        read_numeric_sequences(path, time_column="date")
    assert "feature_columns" not in str(error.value)


def test_numeric_features_are_named_from_a_header_with_a_byte_order_mark(tmp_path: Path
                                                                        ) -> None:
    """A CSV saved with a byte-order mark (Excel's "CSV UTF-8") was read right by
    read_numeric_sequences, but train classifier named its features from the raw header:
    '\ufeffid' was taken for a feature and the file refused as having no such column."""
    from rnnkit.pipelines.classifier_data import read_splits, with_named_features

    path = tmp_path / "long.csv"
    rows = "".join(f"{key},0,{i},1,{'up' if i % 2 else 'down'}\n" for i, key in enumerate("abcd"))
    path.write_bytes(("\ufeff" + HEADER + rows).encode("utf-8"))
    data = with_named_features(ClassifierDataConfig(train=str(path), format="numeric",
                                                    time_column="step", dev_fraction=0.25))
    assert data.feature_columns == "temp,wind"
    splits = read_splits(data, seed=0, log=lambda *_: None)
    assert len(splits["train"]) + len(splits["dev"]) == 4


def test_gzipped_numeric_and_sst_files_are_read_decompressed(tmp_path: Path) -> None:
    """A long CSV or an SST file named .gz was refused as 'not UTF-8 text', where the
    classifier's CSV/TSV/JSONL files are decompressed."""
    path = tmp_path / "long.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "a,0,12.1,3.2,rain\n").encode()))
    sequences, names = read_numeric_sequences(path, time_column="step")
    assert names == ["temp", "wind"] and sequences[0].features.tolist() == [[12.1, 3.2]]
    trees = tmp_path / "trees.txt.gz"
    trees.write_bytes(gzip.compress("\n".join(TREES).encode()))
    assert [tree.label for tree in read_trees(trees)] == [3, 1, 2, 4]


def test_sst_phrases_count_words_in_the_text_for_min_count(tmp_path: Path) -> None:
    """With data.phrases, every word was counted once per phrase around it, so a word seen once
    in the training text passed data.min_count=2 (all 16,583 SST words kept, 8,365 of them seen
    once, where sentences alone keep 8,216)."""
    from rnnkit.pipelines.classifier import (
        ClassifierRunConfig,
        load_classifier_bundle,
        train_classifier,
    )
    from rnnkit.pipelines.classifier_data import ClassifierDataConfig

    lines = ["(4 (3 (3 good) (2 film)) (4 (2 very) (4 (2 rare) (3 (2 plot) (2 twist)))))",
             "(0 (1 (2 the) (1 film)) (0 (1 is) (0 (2 not) (1 good))))",
             "(3 (2 the) (3 (3 good) (2 film)))",
             "(1 (2 the) (1 (1 dull) (2 plot)))"]
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "dev.txt").write_text(lines[2] + "\n", encoding="utf-8")
    data = ClassifierDataConfig(train=str(tmp_path / "train.txt"),
                                dev=str(tmp_path / "dev.txt"), format="sst", phrases=True,
                                min_count=2)
    config = ClassifierRunConfig(data=data, classifier=ClassifierConfig(word_dim=4),
                                 model=ModelConfig(hidden_size=4),
                                 train=TrainConfig(epochs=1, progress=False, threads=1,
                                                   monitor="val_accuracy", mode="max"))
    train_classifier(config, tmp_path / "run", log=lambda *_: None)
    model = load_classifier_bundle(tmp_path / "run" / "model.rnnkit")
    assert model.words is not None
    # seen at least twice in the text: good, film, the, plot; once: very, rare, twist, ...
    assert sorted(model.words.symbols[2:]) == ["film", "good", "plot", "the"]
    # min_count=1 keeps every phrase word, in the phrases' order (most frequent first)
    from rnnkit.data.vocab import Vocab
    from rnnkit.pipelines.classifier_data import read_splits

    ones = replace(config, data=replace(data, min_count=1))
    train_classifier(ones, tmp_path / "run1", log=lambda *_: None)
    phrases = read_splits(ones.data, 0, log=lambda *_: None)["train"]
    every = load_classifier_bundle(tmp_path / "run1" / "model.rnnkit").words
    assert every is not None and every.symbols == Vocab.build(e.tokens for e in phrases).symbols


@pytest.mark.parametrize(("flags", "message"), [
    (["--dataset", "imdb", "--set", "data.sst_labels=sst2"],
     "data.sst_labels is read only from SST trees (--dataset sst, or data.format=sst), and "
     "this data is jsonl: leave it out"),
    (["--train", "train.csv", "--set", "data.phrases=true", "--set", "data.sst_labels=sst2"],
     "data.sst_labels and data.phrases are read only from SST trees"),
    (["--dataset", "sst", "--set", "embeddings.freeze=true"],
     "embeddings.freeze acts on pretrained word vectors, and embeddings.vectors gives none"),
    (["--dataset", "sst", "--set", "embeddings.extend_vocab=5"],
     "embeddings.extend_vocab acts on pretrained word vectors"),
    # printed by --print-config; training refused it
    (["--train", "t.jsonl", "--set", "data.dev_fraction=-1"],
     "data.dev_fraction must be between 0 and 1 (both excluded); got -1.0"),
    # text settings on numeric sequences, and a class weighting on numbers, did nothing
    (["--train", "t.csv", "--format", "numeric", "--set", 'embeddings.vectors="v.txt"'],
     "embeddings.vectors is read only from texts, and this data is numeric: leave it out"),
    (["--train", "t.csv", "--format", "numeric", "--set", "classifier.word_dropout=0.2",
      "--set", "data.max_tokens=50"],
     "classifier.word_dropout and data.max_tokens are read only from texts"),
    (["--train", "t.csv", "--set", "data.time_column=step"],
     "data.time_column is read only from numeric sequences (data.format=numeric), and this "
     "data is csv (guessed from the name t.csv): leave it out"),
    (["--train", "t.csv", "--set", "classifier.output=linear", "--set",
      "classifier.class_weights=balanced"],
     "classifier.class_weights=balanced weighs classes, and classifier.output=linear learns "
     "numbers"),
    (["--train", "t.csv", "--dev", "d.csv", "--set", "data.dev_fraction=0.3"],
     "data.dev_fraction holds out training examples where there is no dev split, and "
     "data.dev gives one: leave it out"),
    (["--dataset", "sst", "--set", "data.dev_fraction=0.3"],
     "data.dev_fraction holds out training examples where there is no dev split, and sst "
     "has one"),
])
def test_classifier_settings_that_would_change_nothing_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str],
        message: str) -> None:
    """SST's label scheme and phrases on other data, and the vectors' freeze and extend_vocab
    without vectors, were accepted and did nothing."""
    assert main(["train", "classifier", *flags, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert message in capsys.readouterr().err


def test_sst_settings_still_read_for_sst_trees(capsys: pytest.CaptureFixture[str]) -> None:
    for flags in (["--dataset", "sst"], ["--train", "trees.txt", "--format", "sst"]):
        assert main(["train", "classifier", *flags, "--set", "data.phrases=true", "--set",
                     "data.sst_labels=sst2", "--print-config"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(("dataset", "task"), [
    ("wnut17", "tagging"),  # was: data.format must be one of jsonl, csv, tsv, got 'iob'
    ("tinyshakespeare", "language model"),  # was: no training data: set data.dataset
    ("multi30k", "translation"),  # was: ... has 4 files (...); use dataset_files
])
def test_a_registry_dataset_of_another_task_is_refused_by_its_task(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    assert main(["train", "classifier", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a classifier reads classification "
            "datasets (imdb, sst)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_sst_trees_in_a_txt_file_are_pointed_to_format_sst(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SST's own train.txt is read as TSV by its name: the error dumped the first tree as
    field names and said to set data.text_field / data.label_field; with data.sst_labels it
    said 'this data is tsv ... or give SST trees', which it was."""
    path = tmp_path / "train.txt"
    long_tree = "(3 " + " ".join(["(2 word)"] * 60) + ")"  # read as the header's one name
    path.write_text("\n".join([long_tree, *TREES]) + "\n")
    with pytest.raises(ValueError, match=r"line 2: needs the fields .*\.\.\.\); the file looks "
                                         r"like SST trees.*--format sst") as error:
        read_labelled_texts(path)
    assert "data.text_field" not in str(error.value) and len(str(error.value)) < 600
    assert main(["train", "classifier", "--train", str(path), "--set", 'data.sst_labels="sst2"',
                 "--out", str(tmp_path / "run"), "--print-config"]) == 2
    assert ("this data is tsv (guessed from the name train.txt): leave it out, or give SST "
            "trees (a file of trees: --format sst)") in capsys.readouterr().err


@pytest.mark.parametrize("label, named", [("pos", "'pos'"), ("nan", "'nan'"), ("inf", "'inf'")])
def test_regression_labels_that_are_not_finite_numbers_are_refused_by_split(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, named: str) -> None:
    good = tmp_path / "good.csv"
    good.write_text("text,stars\ngreat fun,4.5\ndull,1.0\nfine,3\nbad,1\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"text,stars\ngreat fun,4.5\ndull,{label}\nfine,3\n")
    common = ["--set", "data.label_field=stars", "--set", "classifier.output=linear",
              "--set", "train.monitor=val_loss", "--set", "train.mode=min", "--set",
              "train.epochs=1", "--set", "model.hidden_size=4", "--set",
              "classifier.word_dim=4", "--set", "train.progress=false", "--set",
              "train.device=cpu"]
    assert main(["train", "classifier", "--train", str(bad), "--dev", str(good), "--out",
                 str(tmp_path / "run"), *common]) == 2
    error = capsys.readouterr().err
    assert f"the train data has labels that are not finite numbers: [{named}]" in error
    assert "classifier.output=linear" in error and "Traceback" not in error
    assert not (tmp_path / "run" / "model.rnnkit").exists()
    assert main(["train", "classifier", "--train", str(good), "--dev", str(good), "--out",
                 str(tmp_path / "ok"), *common]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(tmp_path / "ok" / "model.rnnkit"),
                 "--data", str(bad)]) == 2
    assert f"the evaluation data has labels that are not finite numbers: [{named}]" in \
        capsys.readouterr().err


@pytest.mark.parametrize("split", ["--train", "--dev", "--test"])
def test_a_classifier_file_not_there_is_not_called_of_unknown_format(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], split: str) -> None:
    """A --train/--dev/--test path with no suffix that is a folder or is not there (a broken
    link) was refused as 'cannot tell the format ...; set data.format': it now says what the
    path is (as --nproc 2 does: commands/inputs.py)."""
    good = tmp_path / "good.tsv"
    good.write_text("text\tlabel\n" + "good film\tpos\nbad film\tneg\n" * 10, encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    for name, said in (("folder", "a folder, not a file"), ("link", "no such file")):
        files = {"--train": str(good), split: str(tmp_path / name)}
        args = ["train", "classifier", "--out", str(tmp_path / "run"),
                "--set", "train.epochs=1", "--set", "model.hidden_size=4"]
        for flag, path in files.items():
            args += [flag, path]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert said in err and str(tmp_path / name) in err and "cannot tell" not in err


def test_a_label_held_out_whole_by_dev_fraction_names_the_setting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no dev file, data.dev_fraction may hold out every example of a rare label; the
    error told the user to fix the data, though the data was fine."""
    from rnnkit.pipelines.classifier_data import ClassifierDataConfig, read_splits

    rows = [f"good film {i},pos" if i % 2 else f"bad film {i},neg" for i in range(20)]
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "\n".join([*rows, "odd film,meh"]) + "\n")
    config = ClassifierDataConfig(train=str(data), dev_fraction=0.25)
    seed = next(seed for seed in range(100)
                if any("meh" in e.labels for e in read_splits(config, seed, print)["dev"]))
    capsys.readouterr()
    assert main(["train", "classifier", "--train", str(data), "--out", str(tmp_path / "run"),
                 "--set", "data.dev_fraction=0.25", "--set", f"train.seed={seed}",
                 "--set", "train.progress=false", "--set", "train.device=cpu"]) == 2
    error = capsys.readouterr().err
    assert "data.dev_fraction held out every training example of ['meh']" in error
    assert "Fix the data" not in error


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_a_training_file_of_one_label_is_refused_by_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str) -> None:
    # said "softmax output needs at least 2 classes, got ['pos']" (no file, nothing to do), or
    # with a sigmoid "classifier.output=sigmoid with 1 classes ...: use softmax", which fails too
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "".join(f"good film {i},pos\n" for i in range(8)))
    assert main(["train", "classifier", "--train", str(data), "--dev", str(data),
                 "--out", str(tmp_path / "run"), "--set", f"classifier.output={output}",
                 "--set", "train.progress=false", "--set", "train.device=cpu"]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: the training data ({data}) holds examples of one label only, 'pos': "
        "a classifier needs at least 2 labels; give training examples of each (is "
        "data.label_field='label' the label column?)\n")
    assert not (tmp_path / "run").exists()
