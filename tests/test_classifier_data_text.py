"""Classifier data: labelled text files in every format, and bad rows, headers, quotes and
encodings named by file and line."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from rnnkit.data.sst import read_trees
from rnnkit.data.text_labels import read_labelled_texts, truncate
from rnnkit.data.words import text_words


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


def test_a_field_longer_than_the_csv_module_s_default_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text('text,label\n"' + "word " * 40_000 + '",pos\n', encoding="utf-8")
    (example,) = read_labelled_texts(path)
    assert len(example.tokens) == 40_000 and example.labels == ("pos",)


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
