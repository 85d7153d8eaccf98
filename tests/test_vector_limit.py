"""``load_vectors(path, limit=N)`` and ``rnnkit word2vec neighbors/analogy/evaluate --limit N``:
the file's first N vectors, read one word at a time (as gensim's ``load_word2vec_format(limit=N)``
reads), and not the rest of the file; the same vectors, in the same order, as the first N of
the whole file's."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors
from test_embeddings_cli import cli  # noqa: F401  (the word2vec commands, for main)
from test_picked_vectors import FILES, many_vectors

import rnnkit.cli
from rnnkit.embeddings.pretrained import load_vectors, save_vectors


def saved(tmp_path: Path, name: str) -> Path:
    format = {".bin": "word2vec-binary", ".glove": "glove"}.get(Path(name).suffix.replace(
        ".gz", ""), "word2vec-text")
    path = save_vectors(many_vectors(), tmp_path / name, format)
    return path


@pytest.mark.parametrize("name", ["v.bin", "v.txt", "v.glove", "v.txt.gz", "v.bin.gz"])
@pytest.mark.parametrize("limit", [1, 7, 100, 10_000])
@pytest.mark.parametrize("block", [7, 4096])  # rows read into one block: several, or one
def test_the_first_vectors_are_those_of_the_whole_file(tmp_path: Path, name: str,
                                                       limit: int, block: int) -> None:
    path = saved(tmp_path, name)
    whole = load_vectors(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KeyedVectors, "load_word2vec_format", None)  # never read whole
        patch.setattr("rnnkit.embeddings.pretrained._BLOCK_ROWS", block)
        first = load_vectors(path, limit=limit)
    assert first.index_to_key == whole.index_to_key[:limit]
    np.testing.assert_array_equal(first.vectors, whole.vectors[:limit])
    assert first.vectors.dtype == np.float32
    assert [first.key_to_index[word] for word in first.index_to_key] == list(range(len(first)))
    assert first.most_similar("the", topn=2) == whole.most_similar(
        "the", topn=2, restrict_vocab=limit)  # the KeyedVectors work as gensim's own


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_the_rest_of_the_file_is_not_read(tmp_path: Path, name: str) -> None:
    """A file whose header promises a word more than it holds (the whole file is refused
    for it) reads its first N vectors: its end is not reached."""
    path = saved(tmp_path, name)
    header, rest = path.read_bytes().split(b"\n", 1)
    count, dim = header.split()
    path.write_bytes(b"%d %s\n" % (int(count) + 1, dim) + rest)
    with pytest.raises(ValueError, match="not a valid"):
        load_vectors(path)
    assert load_vectors(path, limit=20).index_to_key == many_vectors().index_to_key[:20]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # gensim's
@pytest.mark.parametrize("name", list(FILES))
def test_a_limit_past_the_end_reads_or_refuses_as_the_whole_reading(tmp_path: Path,
                                                                     name: str) -> None:
    content, format = FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    try:
        whole = load_vectors(path, format)
    except ValueError as error:
        with pytest.raises(ValueError) as refused:
            load_vectors(path, format, limit=1_000_000)
        assert str(refused.value) == str(error)
        return
    first = load_vectors(path, format, limit=1_000_000)
    assert first.index_to_key == whole.index_to_key
    np.testing.assert_array_equal(first.vectors, whole.vectors)


def test_a_limit_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="limit must be a whole number of at least 1; got 0"):
        load_vectors(saved(tmp_path, "v.bin"), limit=0)


def test_cli_limit(cli: None, tmp_path: Path,  # noqa: F811
                   capsys: pytest.CaptureFixture[str]) -> None:
    main = rnnkit.cli.main
    path = str(saved(tmp_path, "v.txt"))
    assert main(["word2vec", "neighbors", "--vectors", path, "the", "-k", "3",
                 "--limit", "5"]) == 0
    shown = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert len(shown) == 3 and set(shown) <= set(many_vectors().index_to_key[1:5])
    assert main(["word2vec", "analogy", "--vectors", path, "the", "Tampa", "Paris",
                 "--limit", "6", "-k", "2"]) == 0
    assert capsys.readouterr().out.startswith("the : Tampa :: Paris : ?")
    assert main(["word2vec", "evaluate", "--vectors", path, "--limit", "9"]) == 0
    assert capsys.readouterr().out.startswith("9 words x 5")
    assert main(["word2vec", "neighbors", "--vectors", path, "Oslo", "--limit", "5"]) == 2
    assert ("not in the vectors (5 words): 'Oslo'; words seen fewer than min_count times in "
            "the training corpus have no vector; --limit 5 read only the file's first 5 "
            "vectors: raise it, or leave it out to read them all") in capsys.readouterr().err
    for action in (["neighbors", "the"], ["analogy", "a", "b", "c"], ["evaluate"]):
        for bad in ("0", "-3"):
            assert main(["word2vec", *action, "--vectors", path, "--limit", bad]) == 2
            assert f"--limit must be at least 1; got {bad}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:  # argparse's own error
        main(["word2vec", "neighbors", "--vectors", path, "the", "--limit", "x"])
    assert stopped.value.code == 2
    assert "argument --limit: invalid int value: 'x'" in capsys.readouterr().err


def test_gzip_is_read_only_as_far_as_the_limit(tmp_path: Path) -> None:
    """A .gz cut short past the first N vectors: the whole reading names the damage, the
    first N are read."""
    path = saved(tmp_path, "v.txt.gz")
    data = gzip.decompress(path.read_bytes()) * 20  # a long file, then its end cut off
    path.write_bytes(gzip.compress(data)[:-2000])
    with pytest.raises(ValueError):
        load_vectors(path)
    assert load_vectors(path, limit=3).index_to_key == many_vectors().index_to_key[:3]
