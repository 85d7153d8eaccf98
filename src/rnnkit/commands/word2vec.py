"""``rnnkit word2vec train|neighbors|analogy|evaluate``: word vectors from the command line.

Examples::

    rnnkit word2vec train --corpus reviews.jsonl.gz --out runs/embeddings/v.bin --lowercase
    rnnkit word2vec neighbors --vectors runs/embeddings/v.bin movie -k 5
    rnnkit word2vec analogy --vectors runs/embeddings/v.bin man king woman
    rnnkit word2vec evaluate --vectors runs/embeddings/v.bin --json-out scores.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rnnkit.commands.paths import check_not_input, check_output_file, same_file
from rnnkit.config import ConfigError, check_at_least

VECTOR_FORMATS = ("auto", "word2vec-binary", "word2vec-text", "glove")


def register(commands: Any, train_tasks: Any) -> None:
    parser = commands.add_parser(
        "word2vec", help="train word vectors; nearest neighbours, analogies, evaluation"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    train = actions.add_parser("train", help="train word2vec on a corpus and save the vectors")
    train.add_argument("--corpus", type=Path, nargs="+", required=True, metavar="PATH",
                       help="one or more files (.gz is fine), all in the same format")
    train.add_argument("--format", choices=("text", "jsonl", "conllu", "iob", "sst"),
                       help="text: one sentence per line; jsonl: a 'text' field per line (both "
                            "without <br />); conllu: the FORM column; iob: the token column "
                            "of token-and-tag lines, the first as WNUT-17's or the second "
                            "after word numbers as UNER's; sst: the words of sentiment trees, "
                            "one a line, as SST's (default: from the file name; a first line "
                            "that is a tree reads as sst, one that is a token, a tab and a BIO "
                            "tag as iob)")
    train.add_argument("--out", type=Path, required=True,
                       help="vectors file: word2vec text for .txt/.vec, else word2vec binary"
                            " (an existing file is replaced only if it holds word2vec vectors)")
    train.add_argument("--text-out", type=Path, help="also write the vectors as word2vec text")
    train.add_argument("--dim", type=int, default=100, help="vector size (default 100)")
    train.add_argument("--window", type=int, default=5, help="context window (default 5)")
    train.add_argument("--min-count", type=int, default=5,
                       help="drop words seen fewer times (default 5)")
    train.add_argument("--epochs", type=int, default=5, help="passes over the corpus (default 5)")
    architecture = train.add_mutually_exclusive_group()
    architecture.add_argument("--sg", dest="architecture", action="store_const",
                              const="skipgram", help="skip-gram (the default)")
    architecture.add_argument("--cbow", dest="architecture", action="store_const", const="cbow",
                              help="continuous bag of words")
    train.set_defaults(architecture="skipgram")
    train.add_argument("--negative", type=int, default=5,
                       help="negative samples per word (default 5)")
    train.add_argument("--workers", type=int, default=2,
                       help="training threads (default 2; only 1 gives the same vectors on"
                       " every run with the same --seed)")
    train.add_argument("--lowercase", action="store_true", help="lowercase every token")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar")
    train.set_defaults(handler=run_train)

    neighbors = actions.add_parser("neighbors", help="the words nearest to a word")
    _add_vectors_option(neighbors)
    neighbors.add_argument("word", help="the word whose neighbours to list")
    neighbors.add_argument("-k", type=int, default=10, help="how many (default 10)")
    neighbors.set_defaults(handler=run_neighbors)

    analogy = actions.add_parser("analogy", help='"A is to B as C is to ?"')
    _add_vectors_option(analogy)
    analogy.add_argument("words", nargs=3, metavar="WORD", help="A B C")
    analogy.add_argument("-k", type=int, default=10, help="how many answers (default 10)")
    analogy.set_defaults(handler=run_analogy)

    evaluate = actions.add_parser(
        "evaluate", help="word similarity (WordSim-353, SimLex-999) and analogy accuracy"
    )
    _add_vectors_option(evaluate)
    evaluate.add_argument("--restrict-vocab", type=int, default=30_000,
                          help="analogy answers among this many most frequent words (30000)")
    evaluate.add_argument("--json-out", type=Path, help="also write the scores as JSON here")
    evaluate.set_defaults(handler=run_evaluate)


def _add_vectors_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vectors", type=Path, required=True, help="a word2vec or GloVe file")
    parser.add_argument("--vectors-format", choices=VECTOR_FORMATS, default="auto",
                        help="file format (default: detected)")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="read only the file's first N vectors (the most frequent words,"
                             " in a word2vec file), not the rest of it (default: all)")


def _load(args: argparse.Namespace) -> Any:
    from rnnkit.embeddings.pretrained import load_vectors

    return load_vectors(args.vectors, args.vectors_format, args.limit)


def _check_limit(args: argparse.Namespace) -> None:
    if args.limit is not None:
        check_at_least(args.limit, "--limit", 1)


def _unknown_hint(args: argparse.Namespace, error: Exception) -> Exception:
    """A word the vectors lack: with ``--limit``, say that the rest of the file was not read."""
    from rnnkit.embeddings.vector_quality import UnknownWordError

    if args.limit is None:
        return error
    return UnknownWordError(f"{error}; --limit {args.limit} read only the file's first "
                            f"{args.limit} vectors: raise it, or leave it out to read them all")


def _print_scores(scores: list[tuple[str, float]]) -> None:
    for word, score in scores:
        print(f"{word:<24} {score:.4f}")


def run_train(args: argparse.Namespace) -> int:
    from rnnkit.embeddings.corpus_formats import open_corpus
    from rnnkit.embeddings.pretrained import save_vectors
    from rnnkit.embeddings.word2vec import Word2VecOptions, train_word2vec

    for flag in ("--dim", "--window", "--min-count", "--epochs", "--negative", "--workers"):
        check_at_least(getattr(args, flag[2:].replace("-", "_")), flag, 1)  # named as given
    options = Word2VecOptions(
        dim=args.dim, window=args.window, min_count=args.min_count, epochs=args.epochs,
        architecture=args.architecture, negative=args.negative, workers=args.workers,
        seed=args.seed, lowercase=args.lowercase,
    )
    # refused before the training, not after it; both are written atomically
    check_output_file(args.out, "--out", "vectors.bin", atomic=True)
    check_output_file(args.text_out, "--text-out", "vectors.txt", atomic=True)
    check_outputs_apart(args.out, args.text_out, args.corpus)
    check_replaceable(args.out, "--out", "vectors.bin")
    check_replaceable(args.text_out, "--text-out", "vectors.txt")
    corpus = open_corpus(args.corpus, args.format)
    check_tokens_savable(corpus)
    start = time.perf_counter()
    vectors = train_word2vec(corpus, options, progress=args.progress)
    seconds = time.perf_counter() - start
    save_vectors(vectors, args.out)
    if args.text_out is not None:
        save_vectors(vectors, args.text_out, "word2vec-text")
    print(f"{len(vectors)} words x {vectors.vector_size} ({options.architecture}, "
          f"{options.epochs} epoch{'s' if options.epochs != 1 else ''}) in {seconds:.1f} s"
          f" -> {args.out}")
    return 0


def check_tokens_savable(corpus: Any) -> None:
    """Refuse, before the training, a CoNLL-U or column-file token that no vectors file can
    hold (``New York`` in a tab-separated file): saving its vector would fail after it."""
    from rnnkit.embeddings.pretrained import unsavable_word

    sentences = getattr(corpus, "sentences", None)  # the corpora read into memory
    if sentences is None:
        return  # text, JSON lines and SST trees are split at spaces: no token holds one
    bad = unsavable_word(token for tokens in sentences for token in tokens)
    if bad is not None:
        raise ConfigError(f"--corpus: the token {bad!r} holds a space, which a word in a vectors "
                          "file cannot (each line is split at its spaces); join its parts in "
                          f"the corpus, e.g. {bad.replace(' ', '_')!r}")


def check_outputs_apart(out: Path, text_out: Path | None, corpus: list[Path]) -> None:
    """Refuse an ``--out`` or ``--text-out`` that is a corpus file (the vectors would be
    written over it), and a ``--text-out`` that is the ``--out`` file (written twice, the
    text last)."""
    for path, flag, example in ((out, "--out", "vectors.bin"),
                                (text_out, "--text-out", "vectors.txt")):
        given = next((file for file in corpus if path and same_file(path, file)), None)
        if path is not None and given is not None:
            raise ConfigError(f"{flag} {path} is the corpus file {given}: the vectors would be "
                              f"written over the corpus; give {flag} another file, e.g. "
                              f"{path.with_name(example)}")
    if text_out is not None and same_file(out, text_out):
        raise ConfigError(f"--text-out {text_out} is the --out file: one file cannot hold both; "
                          "give --text-out another name, or leave it out (an --out ending in "
                          ".txt or .vec is written as word2vec text)")


def check_replaceable(path: Path | None, flag: str, example: str) -> None:
    """Refuse an existing ``flag`` file that is not word2vec vectors: training again over an
    earlier run's vectors replaces them, as gensim and fastText do, but a file of another kind
    (a CSV, a text, a GloVe download, the corpus under another name) would be lost. An empty
    file and what is not a regular file (``/dev/null``, written in place) hold nothing to
    lose."""
    from rnnkit.embeddings.vector_files import detect_format

    if path is None or not path.is_file() or path.stat().st_size == 0:
        return
    try:
        kind = detect_format(path)
    except ValueError:
        kind = ""
    if kind in ("word2vec-binary", "word2vec-text"):
        return
    what = "GloVe vectors (no 'COUNT DIM' header)" if kind == "glove" else "no word2vec vectors"
    new = path.with_name(example if path.name != example else "new-" + example)
    raise ConfigError(f"{flag} {path} exists and holds {what}, which the vectors would replace;"
                      f" {flag} replaces only an earlier run's word2vec file: give {flag} a new "
                      f"file, e.g. {new}, or move {path} away first")


def run_neighbors(args: argparse.Namespace) -> int:
    from rnnkit.embeddings.vector_quality import UnknownWordError, neighbors

    check_at_least(args.k, "-k", 1)
    _check_limit(args)
    try:
        _print_scores(neighbors(_load(args), args.word, args.k))
    except UnknownWordError as error:
        raise _unknown_hint(args, error) from None
    return 0


def run_analogy(args: argparse.Namespace) -> int:
    from rnnkit.embeddings.vector_quality import UnknownWordError, analogy

    check_at_least(args.k, "-k", 1)
    _check_limit(args)
    a, b, c = args.words
    try:  # refused (unknown words) before a print
        answers = analogy(_load(args), a, b, c, args.k)
    except UnknownWordError as error:
        raise _unknown_hint(args, error) from None
    print(f"{a} : {b} :: {c} : ?")
    _print_scores(answers)
    return 0


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def run_evaluate(args: argparse.Namespace) -> int:
    from rnnkit.embeddings.vector_quality import evaluate
    from rnnkit.training.checkpoint import atomic_write_text

    check_at_least(args.restrict_vocab, "--restrict-vocab", 1)
    _check_limit(args)
    # before the slow evaluation; written atomically
    check_output_file(args.json_out, "--json-out", "scores.json", atomic=True)
    check_not_input(args.json_out, str(args.vectors), "--vectors", "--json-out", "scores.json")
    scores = evaluate(_load(args), restrict_vocab=args.restrict_vocab)
    print(f"{scores['words']} words x {scores['dim']}")
    print(f"{'similarity':<12} {'spearman':>9} {'pearson':>9} {'oov':>7} {'pairs':>9}")
    for name, row in scores["similarity"].items():
        print(f"{name:<12} {_cell(row['spearman']):>9} {_cell(row['pearson']):>9} "
              f"{row['oov_ratio']:>7.1%} {row['pairs']:>4}/{row['pairs_total']:<4}")
    result = scores["analogy"]
    print(f"{'analogy':<12} {'accuracy':>9} {'semantic':>9} {'syntactic':>9} {'answered':>13}")
    print(f"{'questions':<12} {_cell(result['accuracy']):>9} {_cell(result['semantic']):>9} "
          f"{_cell(result['syntactic']):>9} {result['answered']:>6}/{result['questions']}")
    if args.json_out is not None:
        text = json.dumps(scores, indent=2) + "\n"
        atomic_write_text(args.json_out, text)
        print(f"scores -> {args.json_out}")
    return 0
