"""Where a tagger's sentences come from: a registry dataset or files, in CoNLL-U or IOB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rnnkit.data.tagged import TaggedSentence

FORMATS = ("conllu", "iob")


@dataclass(frozen=True)
class TaggerDataConfig:
    dataset: str = "ud_english_ewt"  # a registry name (`rnnkit datasets list`), or "" for files
    train: str = ""  # files override the registry's
    dev: str = ""
    test: str = ""
    format: str = ""  # conllu | iob; "" = the dataset's
    column: str = "upos"  # conllu: upos | xpos
    token_column: int = 0  # iob: 1-based columns; 0 = the dataset's (or 1 and the last)
    tag_column: int = 0
    scheme: str = "bio"  # bio | bioes: the scheme trained on (output is always BIO); none: the
    # tags are not entity spans (part of speech in an iob file): any tag is read as it is
    min_count: int = 1  # words seen fewer times in training map to <unk> (unless in the vectors)
    data_dir: str = ""  # a local mirror of the datasets (else $RNNKIT_DATA, the cache, download)

    def reader_settings(self) -> dict[str, Any]:
        """What a saved model keeps, to read and write files of the same layout later."""
        return {"format": self._format(), "column": self.column, "scheme": self.scheme,
                **self._iob_columns()}

    def _spec(self) -> Any:
        if not self.dataset:
            return None
        from rnnkit.data.registry import get_task_spec

        return get_task_spec(self.dataset, "tagging", "a tagger")

    def _format(self) -> str:
        spec = self._spec()
        fmt = self.format or (spec.format if spec else "")
        if fmt not in FORMATS:
            raise ValueError(f"data.format must be one of {', '.join(FORMATS)} (got {fmt!r}): "
                             "say how the files are written with --format conllu or --format "
                             "iob (or --set data.format=...)")
        return fmt

    def _iob_columns(self) -> dict[str, Any]:
        spec = self._spec()
        options = dict(spec.reader_options) if spec else {}
        return {
            "token_column": self.token_column or int(options.get("token_column", 1)),
            "tag_column": self.tag_column or int(options.get("tag_column", -1)),
            "comment_prefix": options.get("comment_prefix", "#"),
        }

    def path(self, split: str) -> Path:
        explicit = getattr(self, split, "")
        if explicit:
            return Path(explicit)
        if not self.dataset:
            raise ValueError(f"no {split} file: give --{split} FILE (data.{split}), or a "
                             "registry --dataset (data.dataset)")
        from rnnkit.data.registry import dataset_file

        return dataset_file(self.dataset, split, mirror=self.data_dir or None)


def read_file(path: str | Path, settings: dict[str, Any], require_tags: bool = True,
              lines: list[str] | None = None) -> list[TaggedSentence]:
    """Read sentences with a model's or a config's reader settings.

    ``require_tags=False`` reads input to be tagged, whose tag column may still be empty
    (``_``); for untagged text use the ``text`` format of ``rnnkit predict``. ``lines``: the
    text's lines, already read (standard input, named by ``path``).
    """
    if settings["format"] == "conllu":
        from rnnkit.data.conllu import read_conllu

        return read_conllu(path, column=settings["column"], require_tags=require_tags,
                           lines=lines)
    from rnnkit.data.iob import read_iob

    return read_iob(path, token_column=settings["token_column"],
                    tag_column=settings["tag_column"],
                    comment_prefix=settings.get("comment_prefix", "#"),
                    any_tag=settings.get("scheme") == "none", require_tags=require_tags,
                    max_fields=settings.get("max_fields", 0),
                    names=settings.get("column_names", ("data.token_column", "data.tag_column")),
                    lines=lines)


def read_split(data: TaggerDataConfig, split: str) -> list[TaggedSentence]:
    return read_file(data.path(split), data.reader_settings())


def write_predictions(sentences: Sequence[TaggedSentence], predicted: Sequence[Sequence[str]],
                      path_or_stream: str | Path | TextIO, settings: dict[str, Any],
                      scores: Sequence[Sequence[float]] | None = None) -> None:
    """Write predictions to a file or a text stream in the input's own format
    (``settings["format"]``); ``scores``: each tag's probability too (CoNLL-U: ``TagProb=`` in
    MISC; iob: an extra last column)."""
    if settings["format"] == "conllu":
        from rnnkit.data.conllu import write_conllu

        write_conllu(path_or_stream, sentences, predicted, column=settings["column"],
                     scores=scores)
    else:
        from rnnkit.data.iob import write_iob

        write_iob(path_or_stream, sentences, predicted, scores=scores)
