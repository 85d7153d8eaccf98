"""Subword tokenization with SentencePiece (Kudo & Richardson 2018), trained on training text.

The trained model is a few hundred kilobytes of protobuf; :meth:`SubwordTokenizer.to_json`
stores it as base64 text, so it travels inside a model bundle's JSON header and a loaded model
translates raw text with no other file. Ids: 0 pad, 1 unknown, 2 begin, 3 end of sentence.
Characters never seen in training become the unknown piece (id 1).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import sentencepiece as spm

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
SPECIAL_PIECES = 4  # the ids above: every vocabulary holds them and each training character
MODEL_TYPES = ("unigram", "bpe")


class SubwordTokenizer:
    """Raw text <-> subword ids. ``decode(encode(text))`` gives ``text`` back as SentencePiece
    normalises it (``nmt_nfkc``), not byte for byte: NFKC (``ﬁ`` is ``fi``, a no-break space a
    space), each run of whitespace (tabs and newlines too) one space and none at either end;
    characters never seen in training are left out. Collapsing spaces is wanted here: neither
    the subwords nor BLEU's tokens (sacreBLEU splits at runs of spaces) depend on them.

    Example:
        >>> lines = ["a dog runs", "a cat sits", "the dog sits"] * 20
        >>> tokenizer = SubwordTokenizer.train(lines, vocab_size=30)
        >>> tokenizer.decode(tokenizer.encode("a dog sits"))
        'a dog sits'
        >>> tokenizer.decode(tokenizer.encode(" a  dog\tsits "))  # whitespace is normalised
        'a dog sits'
    """

    def __init__(self, model: bytes) -> None:
        self.model = model
        self.processor = spm.SentencePieceProcessor(model_proto=model)

    @classmethod
    def train(cls, lines: Sequence[str], vocab_size: int = 8000, model_type: str = "unigram"
              ) -> SubwordTokenizer:
        """Learn a vocabulary of ``vocab_size`` pieces (specials included) from ``lines``."""
        if model_type not in MODEL_TYPES:
            raise ValueError(f"tokenizer model type must be one of {MODEL_TYPES}, got"
                             f" {model_type!r}")
        text = [line for line in lines if line.strip()]
        if not text:
            raise ValueError("cannot train a tokenizer: the training text has no non-empty line")
        output = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(text), model_writer=output, vocab_size=vocab_size,
                model_type=model_type, character_coverage=1.0, pad_id=PAD_ID, unk_id=UNK_ID,
                bos_id=BOS_ID, eos_id=EOS_ID, num_threads=1, minloglevel=2,
                hard_vocab_limit=False,  # a small text may hold fewer pieces: take what there is
            )
        except RuntimeError as error:
            raise ValueError(f"SentencePiece could not train a {vocab_size}-piece vocabulary on"
                             f" {len(text)} lines: {error}; the vocabulary must hold the"
                             f" {SPECIAL_PIECES} special pieces and every character of the"
                             " training text: raise data.vocab_size") from None
        return cls(output.getvalue())

    def __len__(self) -> int:
        return int(self.processor.get_piece_size())

    def encode(self, text: str) -> list[int]:
        """The subword ids of one raw line (no begin/end markers)."""
        return list(self.processor.encode(text))

    def decode(self, ids: Sequence[int]) -> str:
        """Detokenized text; padding, markers and unknown pieces are left out, and so are the
        double and trailing spaces a bare ``▁`` piece (a word start with nothing after it)
        decodes to."""
        return " ".join(str(self.processor.decode([i for i in ids if i > EOS_ID])).split())

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """The pieces themselves (``▁`` marks a word start), for attention plots."""
        return [str(self.processor.id_to_piece(int(i))) for i in ids]

    def unknown_characters(self, text: str) -> list[str]:
        """The characters of ``text`` that fall on unknown pieces (never seen in training),
        after the tokenizer's own normalisation (NFKC: a full-width ``Ｅ`` is an ``E``)."""
        seen = self.processor.piece_to_id  # every training character is a piece of its own
        normal = str(self.processor.normalize(text)).replace("\u2581", " ")
        return sorted({c for c in normal if not c.isspace() and seen(c) == UNK_ID})

    def to_json(self) -> dict[str, Any]:
        return {"sentencepiece": base64.b64encode(self.model).decode("ascii")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubwordTokenizer:
        return cls(base64.b64decode(data["sentencepiece"]))
