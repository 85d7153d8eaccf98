"""Translation scores with sacreBLEU (Post 2018): BLEU and chrF on detokenized, cased text.

Scores are comparable across papers only with the same reference text and settings; the
signature (``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:...``) records them. BLEU's
tokenizer follows the target language as ``sacrebleu -l SRC-TGT`` chooses it: ``13a``, but
``zh`` for Chinese and ``ja-mecab`` / ``ko-mecab`` for Japanese / Korean (words are not
space-separated there: ``13a`` would make a whole sentence one token, and BLEU nearly 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def bleu_metric(target_language: str = "") -> Any:
    """sacreBLEU's BLEU for text in ``target_language`` (its tokenizer chosen as above).

    Raises:
        ValueError: Japanese or Korean, and the tokenizer's extra packages are missing.
    """
    from sacrebleu.metrics import BLEU

    try:
        return BLEU(trg_lang=target_language)
    except RuntimeError:  # sacreBLEU's MeCab tokenizers (ja, ko) without their packages
        raise ValueError(f"BLEU on {target_language!r} text is tokenized with MeCab, as"
                         " sacreBLEU scores that language, and MeCab is not installed: pip"
                         f" install 'sacrebleu[{target_language}]'") from None


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str],
                  target_language: str = "") -> dict[str, Any]:
    """Corpus BLEU and chrF of detokenized hypotheses against one reference each;
    ``target_language`` (a code such as ``en``, ``zh``) picks BLEU's tokenizer.

    Example:
        >>> scores = corpus_scores(["a dog runs on the grass ."], ["a dog runs on the grass ."])
        >>> round(scores["bleu"], 1), round(scores["chrf"], 1)
        (100.0, 100.0)
    """
    from sacrebleu.metrics import CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} translations for {len(references)} references;"
                         " every reference needs exactly one translation")
    if not any(reference.strip() for reference in references):  # blank lines scored BLEU 0
        raise ValueError("no sentences to score: the reference text is empty (or only blank "
                         "lines); give test data that holds sentences")
    bleu, chrf = bleu_metric(target_language), CHRF()
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
