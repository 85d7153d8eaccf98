"""Scoring a translation model on parallel text: translate the sources, BLEU and chrF against
the references (greedy and beam search), the translations written beside the scores."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.pipelines.translation import detokenize, translate_lines
from rnnkit.training.checkpoint import write_output_text
from rnnkit.training.translation_metrics import corpus_scores


def score_both(model: Seq2Seq, sources: list[str], references: list[str], out: Path | None,
               name: str, log: Any = print, source: str = "") -> dict[str, Any]:
    """Greedy and beam-search scores (BLEU, chrF, signatures), ``sources`` read from the file
    ``source`` (for warnings); translations written to ``out``."""
    scored: dict[str, Any] = {}
    for decoding, beam in (("greedy", 1), ("beam", model.config.beam_size)):
        scored[decoding] = score_lines(model, sources, references, beam, out,
                                       f"{name}.{decoding}", source)
        log(f"{name} {decoding} (beam {beam}): BLEU {scored[decoding]['bleu']:.2f}, chrF"
            f" {scored[decoding]['chrf']:.2f}; {scored[decoding]['bleu_signature']}")
    return scored


def score_lines(model: Seq2Seq, sources: list[str], references: list[str], beam_size: int,
                out: Path | None = None, name: str = "test", source: str = "") -> dict[str, Any]:
    """Translate ``sources`` (of the file ``source``, for warnings) and score against
    ``references``; write ``<out>/<name>.txt``."""
    started = time.perf_counter()
    found = translate_lines(model, sources, beam_size, source_file=source)  # no gradients
    hypotheses = detokenize(model, found)
    seconds = time.perf_counter() - started
    scores = corpus_scores(hypotheses, references, model.data.get("tgt", ""))
    scores.update(beam_size=beam_size, length_penalty=model.config.length_penalty,
                  sentences=len(sources), decode_seconds=round(seconds, 1))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_output_text(out / f"{name}.txt", "\n".join(hypotheses) + "\n")
    return scores
