"""Translation scores with sacreBLEU (Post 2018): BLEU and chrF on detokenized, cased text.

Scores are comparable across papers only with the same reference text and settings; the
signature (``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:...``) records them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    """Corpus BLEU and chrF of detokenized hypotheses against one reference each.

    Example:
        >>> scores = corpus_scores(["a dog runs on the grass ."], ["a dog runs on the grass ."])
        >>> round(scores["bleu"], 1), round(scores["chrf"], 1)
        (100.0, 100.0)
    """
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} translations for {len(references)} references;"
                         " every reference needs exactly one translation")
    if not references:
        raise ValueError("no sentences to score: the reference text is empty; give test data"
                         " that holds sentences")
    bleu, chrf = BLEU(), CHRF()
    hyps, refs = list(hypotheses), [list(references)]
    bleu_score = bleu.corpus_score(hyps, refs)
    chrf_score = chrf.corpus_score(hyps, refs)
    return {
        "bleu": float(bleu_score.score),
        "chrf": float(chrf_score.score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "bleu_detail": str(bleu_score),
    }
