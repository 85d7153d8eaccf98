"""Apply a trained tagger: tags for tokenized sentences, and the scores, confusion matrix and
written predictions of an evaluation against gold tags."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnkit.data.batching import bucket_order, within_budget
from rnnkit.data.tagged import TaggedSentence
from rnnkit.data.tagger_batches import collate, encode
from rnnkit.data.tags import bio_tag, is_tag, span_f1_available, to_bio
from rnnkit.data.vocab import PAD
from rnnkit.models.tagger import Tagger
from rnnkit.pipelines.run import drawing
from rnnkit.pipelines.tagger_data import write_predictions
from rnnkit.training.calibration import calibration_report
from rnnkit.training.checkpoint import write_output_text
from rnnkit.training.tag_metrics import (
    confusion,
    confusion_table,
    span_report,
    tag_scores,
)
from rnnkit.training.task import evaluating, move_to


def gold_tags(sentences: Sequence[TaggedSentence]) -> list[list[str]]:
    """The sentences' tags; span tags read as BIO, IOB1 or BIOES come back as valid BIO (a
    CRF's rules forbid what IOB1 and broken BIO hold, and predictions are BIO)."""
    spans = span_f1_available([tag for s in sentences for tag in s.tags])
    return [to_bio(s.tags) if spans else list(s.tags) for s in sentences]


def predict_tags(model: Tagger, token_lists: Sequence[Sequence[str]], batch_size: int = 256
                 ) -> list[list[str]]:
    """Tags for each tokenized sentence, in the input's order (BIO output always valid)."""
    return _predict(model, token_lists, batch_size, scores=False)[0]


def predict_tags_with_scores(model: Tagger, token_lists: Sequence[Sequence[str]],
                             batch_size: int = 256) -> tuple[list[list[str]], list[list[float]]]:
    """Tags for each tokenized sentence (as :func:`predict_tags`) and the probability of each:
    the model's marginal ``p(tag_t = k | sentence)`` of the tag it chose (a CRF's exact
    forward-backward marginal, a softmax tagger's softmax). A BIOES model's tag is reported as
    BIO (``S-PER`` as ``B-PER``) and a softmax tagger's stray ``I-X`` as ``B-X``; the number
    stays the probability of the tag the model chose.

    Example:
        >>> tags, scores = predict_tags_with_scores(model, [["Anna", "left"]])  # doctest: +SKIP
        >>> tags, scores  # doctest: +SKIP
        ([['B-PER', 'O']], [[0.97, 0.99]])
    """
    return _predict(model, token_lists, batch_size, scores=True)


def _predict(model: Tagger, token_lists: Sequence[Sequence[str]], batch_size: int,
             scores: bool) -> tuple[list[list[str]], list[list[float]]]:
    # a list: a generator of sentences would be used up by the check for strings
    token_lists = [token_lists] if isinstance(token_lists, str) else list(token_lists)
    strings = [tokens for tokens in token_lists if isinstance(tokens, str)]
    if strings:
        raise TypeError(f"predict_tags takes tokenized sentences (lists of tokens), got the "
                        f"string {strings[0][:40]!r}; split it into tokens first")
    _check_tokens(token_lists)
    with evaluating(model):  # its mode (train or eval) is given back after
        lowercase = model.config.lowercase
        encoded = [encode(tokens, None, model.words, model.chars, model.tags, lowercase)
                   for tokens in token_lists]
        predicted: list[list[str]] = [[] for _ in encoded]
        probabilities: list[list[float]] = [[] for _ in encoded]
        device = next(model.parameters()).device
        lengths = [len(e) for e in encoded]
        for chunk in within_budget(bucket_order(lengths, batch_size, None), lengths):
            batch = collate([encoded[i] for i in chunk])
            batch = move_to(batch, device)
            if scores:
                all_ids, confidences = model.predict_with_confidence(batch)
            else:
                all_ids, confidences = model.predict_ids(batch), [[] for _ in chunk]
            for index, ids, confidence in zip(chunk, all_ids, confidences, strict=True):
                predicted[index] = model.output_tags(ids)
                probabilities[index] = confidence
        return predicted, probabilities


def _check_tokens(token_lists: Sequence[Sequence[str]]) -> None:
    """Refuse a sentence without tokens, and a token that is not a word: empty (the file
    readers refuse it too) or no string."""
    for number, tokens in enumerate(token_lists, 1):
        if len(tokens) == 0:  # encode's own error named neither the sentence nor the fix
            raise ValueError(f"sentence {number} has no tokens: leave empty sentences out "
                             "(e.g. [tokens for tokens in sentences if tokens])")
        for position, token in enumerate(tokens, 1):
            if token and isinstance(token, str):
                continue  # the message below is built for the one bad token only
            where = f"sentence {number}, token {position}"
            if not isinstance(token, str):
                raise TypeError(f"{where} is {token!r}, not a string: pass each token as a str")
            raise ValueError(f"{where} is empty: drop empty tokens (split at whitespace with "
                             "str.split(), not str.split(' '))")


def evaluate_sentences(model: Tagger, sentences: list[TaggedSentence], out: Path | None,
                       name: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scores, per-type report, confusion matrix (table + PNG) and written predictions, in the
    format the sentences were read with (``settings``; None: the model's training data's)."""
    started = time.perf_counter()
    gold = gold_tags(sentences)
    predicted = predict_tags(model, [s.tokens for s in sentences])
    seconds = time.perf_counter() - started  # the tags' speed, as before there were scores
    spans = span_f1_available(model.tags.symbols)
    unknown = unseen_tags(gold, model.tags.symbols, model.data.get("scheme", "bio"), name)
    tokens = sum(len(g) for g in gold)
    result: dict[str, Any] = {
        "sentences": len(sentences),
        "tokens": tokens,
        "scores": tag_scores(gold, predicted, spans),
        "tokens_per_second": round(tokens / max(seconds, 1e-9), 1),
    }
    if tokens:
        result["calibration"] = token_calibration(model, sentences, gold)
    if unknown:
        result["unknown_gold_tags"] = unknown  # never predicted: every such token is an error
    if spans:
        result["per_type"] = span_report(gold, predicted)
    labels, matrix = confusion(gold, predicted)
    result["confusion"] = {"labels": labels, "matrix": matrix}
    if out is not None:
        from rnnkit.viz.confusion import plot_confusion

        out.mkdir(parents=True, exist_ok=True)
        write_output_text(out / f"{name}_confusion.md", confusion_table(labels, matrix) + "\n")
        with drawing(out / f"{name}_confusion.png"):
            plot_confusion(labels, matrix, out / f"{name}_confusion.png",
                           title=f"{name} confusion")
        if sentences and sentences[0].lines:
            settings = settings or model.data
            path = out / f"{name}.predictions.{settings['format']}"
            write_predictions(sentences, predicted, path, settings)
    return result


def token_calibration(model: Tagger, sentences: Sequence[TaggedSentence],
                      gold: Sequence[Sequence[str]]) -> dict[str, Any]:
    """How well the probabilities of the predicted tags match how often they are right
    (:func:`~rnnkit.training.calibration.calibration_report`: ECE over 10 bins, and the share
    and accuracy of the tokens at or above 0.5, 0.9 and 0.99), a token right when its reported
    tag is the gold one."""
    predicted, scores = predict_tags_with_scores(model, [s.tokens for s in sentences])
    correct = [p == g for row, gold_row in zip(predicted, gold, strict=True)
               for p, g in zip(row, gold_row, strict=True)]
    return calibration_report([p for row in scores for p in row], correct)


def unseen_tags(gold: Sequence[Sequence[str]], tags: Sequence[str], scheme: str,
                name: str, test_file: str = "") -> list[str]:
    """The gold tags (BIO for spans) that a model of ``tags`` never predicts, sorted.
    ``test_file``: the gold is a training run's test file, checked before there is a model.

    Raises:
        ValueError: another tag set, not a rare tag or two: more than half of the tokens carry
            such tags, or for entity tags more than half of the tokens inside entities (``O``,
            which every entity tag set shares, is most tokens: a set of other types hid
            behind it and scored 0).
    """
    known = set(tags) - {PAD}  # padding is a tag id, never a prediction
    if scheme == "bioes":  # as BIO, as predictions are
        known = {bio_tag(t) if is_tag(t) else t for t in known}
    unknown = sorted({t for g in gold for t in g} - known)
    spans = span_f1_available(tags)
    judged = [t for g in gold for t in g if not (spans and t == "O")]
    strangers = sum(t not in known for t in judged)
    if strangers > 0.5 * len(judged):
        predicts = sorted(known)
        which = "entity tokens" if spans else "tokens"
        strange = f"({', '.join(unknown[:8])}{', ...' if len(unknown) > 8 else ''})"
        own = f"{', '.join(predicts[:8])}{', ...' if len(predicts) > 8 else ''}"
        if test_file:
            raise ValueError(f"{strangers} of the {len(judged)} {which} of the test file "
                             f"{test_file} carry tags the training and dev data lack "
                             f"{strange}; theirs are {own}. Give a test file with their tag "
                             "set")
        raise ValueError(f"{strangers} of the {len(judged)} {name} {which} carry tags the "
                         f"model never saw {strange}; it predicts {own}. Evaluate it on data "
                         "with its own tag set")
    return unknown
