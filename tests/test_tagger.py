"""The tagger model: shapes, overfitting a tiny corpus, bundles, char encoders, batching."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.batching import BucketBatches
from rnnkit.data.tagger_batches import collate, encode
from rnnkit.data.vocab import Vocab
from rnnkit.models.char_encoder import CharEncoder
from rnnkit.models.tagger import Tagger, TaggerConfig
from rnnkit.training.bundle import load_bundle, save_bundle
from rnnkit.training.trainer import Trainer

SENTENCES = [
    (["John", "lives", "in", "New", "York"], ["B-PER", "O", "O", "B-LOC", "I-LOC"]),
    (["Mary", "visited", "Paris"], ["B-PER", "O", "B-LOC"]),
    (["He", "left"], ["O", "O"]),
    (["Anna", "Smith", "likes", "Rome", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"]),
]


def _build(output: str = "crf", char_encoder: str = "lstm", cell: str = "lstm") -> Tagger:
    torch.manual_seed(0)
    words = Vocab.build([[t.lower() for t in s] for s, _ in SENTENCES])
    chars = Vocab.build([list(t) for s, _ in SENTENCES for t in s])
    tags = Vocab.build([t for _, t in SENTENCES], unknown=False)
    config = TaggerConfig(word_dim=16, char_dim=8, char_hidden=8, char_encoder=char_encoder,
                          embedding_dropout=0.0, output_dropout=0.0, word_dropout=0.0,
                          output=output)
    encoder = ModelConfig(cell=cell, hidden_size=16, bidirectional=True, init="torch")
    return Tagger(words, chars, tags, config, encoder)


def _source(model: Tagger, shuffle: bool = True) -> BucketBatches:
    encoded = [encode(s, t, model.words, model.chars, model.tags, True) for s, t in SENTENCES]
    return BucketBatches(encoded, collate, [len(e) for e in encoded], 2, shuffle, seed=0)


def test_emission_shapes_and_padding() -> None:
    model = _build()
    batch = next(_source(model, shuffle=False).batches(0))
    scores = model.emissions(batch)
    assert scores.shape == (*batch.words.shape, len(model.tags))
    assert [len(p) for p in model.predict_ids(batch)] == batch.lengths.tolist()
    model.eval()  # padding never changes a sentence's scores (both directions, char features)
    encoded = [encode(s, t, model.words, model.chars, model.tags, True) for s, t in SENTENCES]
    together = model.emissions(collate(encoded))
    assert len({len(item) for item in encoded}) > 1  # the batch really is padded
    for row, item in enumerate(encoded):
        alone = model.emissions(collate([item]))[0]
        torch.testing.assert_close(together[row, :len(alone)], alone, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("output, char_encoder, cell",
                         [("crf", "lstm", "lstm"), ("softmax", "cnn", "gru")])
def test_overfits_a_tiny_corpus(output: str, char_encoder: str, cell: str) -> None:
    model = _build(output, char_encoder, cell)
    config = TrainConfig(epochs=25, lr=0.05, progress=False, seed=0, device="cpu")
    Trainer(model, config, log=lambda _: None).fit(_source(model))
    scores = model.evaluate(_source(model, shuffle=False).batches(0))
    assert scores["accuracy"] == 1.0 and scores["f1"] == 1.0


def test_bundle_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    model = _build().eval()
    path = save_bundle(model, tmp_path / "tagger.rnnkit")
    loaded = load_bundle(path, expected_kind="tagger")
    batch = next(_source(model, shuffle=False).batches(0))
    assert isinstance(loaded, Tagger)
    assert torch.equal(model.emissions(batch), loaded.emissions(batch))
    assert loaded.words.symbols == model.words.symbols


def test_unseen_words_still_get_character_features() -> None:
    encoder = CharEncoder(num_chars=10, char_dim=4, hidden_size=3, kind="lstm")
    chars = torch.tensor([[[2, 3, 0], [4, 0, 0]], [[5, 6, 7], [0, 0, 0]]])
    mask = torch.tensor([[True, True], [True, False]])
    out = encoder(chars, mask)
    assert out.shape == (2, 2, 6)
    assert torch.all(out[1, 1] == 0) and out[0, 0].abs().sum() > 0
    with pytest.raises(ValueError, match="char encoder must be one of"):
        CharEncoder(10, 4, 3, kind="rnn")


@pytest.mark.parametrize("kind", ["lstm", "cnn"])
def test_a_word_s_character_features_do_not_depend_on_its_batch(kind: str) -> None:
    """In float64, a word encoded alone gives the vector it gets in a padded batch beside
    longer and shorter words and a shorter sentence (the LSTM packs by word length, the CNN
    masks the padding before its max); unseen characters read as <unk>, not as padding."""
    torch.manual_seed(0)
    chars = Vocab.build([list("abcdefghijklmnopqrstuvwxyzHN")])
    words, tags = Vocab(["a"]), Vocab(["O"], unknown=False)
    encoder = CharEncoder(len(chars), 5, 4, kind).double().eval()
    sentence = ["a", "Hello", "internationalization", "é🙂", "x" * 40, "New"]
    batch = collate([encode(tokens, None, words, chars, tags, False)
                     for tokens in (sentence, ["ab"])])
    with torch.no_grad():
        together = encoder(batch.chars, batch.words != 0)
        assert torch.all(together[1, 1:] == 0)  # padded words
        for b, tokens in enumerate((sentence, ["ab"])):
            for t, token in enumerate(tokens):
                alone = collate([encode([token], None, words, chars, tags, False)])
                vector = encoder(alone.chars, torch.ones(1, 1, dtype=torch.bool))[0, 0]
                assert torch.allclose(vector, together[b, t], rtol=0, atol=1e-12), token
    assert alone.chars.tolist() == [[[2, 3]]]  # "ab" (ids from 2: 0 padding, 1 <unk>)
    assert encode(["é🙂"], None, words, chars, tags, False).chars.tolist() == [[1, 1]]


def test_the_character_lstm_gives_the_layer_s_final_states_to_the_bit() -> None:
    """The encoder packs the words itself, so the layer need not pad outputs nobody reads:
    its features and gradients are exactly those of the layer run on the padded words and
    their lengths (float32, as trained)."""
    torch.manual_seed(0)
    encoder = CharEncoder(num_chars=12, char_dim=6, hidden_size=5, kind="lstm")
    chars = torch.randint(1, 12, (3, 4, 7))
    chars[:, :, 5:] = 0
    chars[0, 1, 2:] = 0
    chars[2, 3, 1:] = 0
    mask = torch.tensor([[True] * 4, [True, True, False, False], [True] * 4])
    features = encoder(chars, mask)
    ours = torch.autograd.grad(features.square().sum(), list(encoder.parameters()))
    assert encoder.lstm is not None
    words = chars[mask]
    lengths = (words != 0).sum(1).clamp(min=1)
    _, (h_n, _) = encoder.lstm(encoder.embedding(words), lengths=lengths)
    expected = torch.zeros_like(features)
    expected[mask] = torch.cat([h_n[0], h_n[1]], dim=1)
    theirs = torch.autograd.grad(expected.square().sum(), list(encoder.parameters()))
    assert torch.equal(features, expected)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize(("options", "message"), [
    ({"char_encoder": "cnnn"}, "tagger.char_encoder must be one of lstm, cnn; got 'cnnn'"),
    ({"output": "crff"}, "tagger.output must be one of crf, softmax; got 'crff'"),
])
def test_a_wrong_tagger_option_names_its_key(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _build(**options)


def test_buckets_group_similar_lengths_and_depend_only_on_seed_and_epoch() -> None:
    lengths = [1, 9, 2, 8, 3, 7, 4, 6]
    source = BucketBatches(list(range(8)), list, lengths, batch_size=2, seed=3)
    batches = list(source.batches(0))
    assert sorted(i for b in batches for i in b) == list(range(8))
    assert all(abs(lengths[a] - lengths[b]) <= 1 for a, b in batches)
    assert batches == list(source.batches(0)) and batches != list(source.batches(1))


def test_wrong_pretrained_shape_is_a_clear_error() -> None:
    model = _build()
    with pytest.raises(ValueError, match="pretrained embeddings have shape"):
        Tagger(model.words, model.chars, model.tags, model.config, model.encoder_config,
               embeddings=torch.zeros(3, 16))


def test_a_bioes_softmax_model_reports_the_spans_its_e_and_s_tags_close() -> None:
    tags = Vocab(["O", "B-PER", "I-PER", "E-PER", "S-PER"], unknown=False)
    config = TaggerConfig(word_dim=4, char_dim=0, output="softmax")
    model = Tagger(Vocab(["a"]), Vocab(["a"]), tags, config,
                   ModelConfig(cell="lstm", hidden_size=4, init="torch"), data={"scheme": "bioes"})
    predicted = tags.encode(["S-PER", "I-PER", "E-PER", "E-PER"])  # softmax: any sequence
    # three spans (S, I..E, a stray E), not one four-word span
    assert model.output_tags(predicted) == ["B-PER", "B-PER", "I-PER", "B-PER"]


def test_predict_tags_gives_back_the_model_s_mode_and_refuses_untokenized_text() -> None:
    from rnnkit.pipelines.tagger_scoring import predict_tags

    model = _build()
    for mode in (True, False):
        model.train(mode)
        assert [len(tags) for tags in predict_tags(model, [["Anna", "left"], ["x"]])] == [2, 1]
        assert model.training is mode  # a user's training loop keeps its dropout
    for text in ("The cat sat .", ["The cat sat ."]):
        with pytest.raises(TypeError, match="takes tokenized sentences .* got the string"):
            predict_tags(model, text)  # type: ignore[arg-type]
    # a generator of sentences was used up by the check for strings: no tags, no error
    sentences = (tokens for tokens in [["Anna", "left"], ["x"]])
    assert [len(tags) for tags in predict_tags(model, sentences)] == [2, 1]  # type: ignore[arg-type]


def test_span_scores_are_seqeval_s_and_no_prediction_scores_zero_without_a_warning() -> None:
    """A tagger that predicted no span (the first epochs of WNUT-17) printed seqeval's
    'UndefinedMetricWarning: Precision is ill-defined' at every validation."""
    import random
    import warnings

    from seqeval.metrics import f1_score, precision_score, recall_score

    from rnnkit.training.tag_metrics import tag_scores

    rng = random.Random(0)
    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    gold = [[rng.choice(names) for _ in range(rng.randint(1, 8))] for _ in range(50)]
    predicted = [[rng.choice(names) for _ in tags] for tags in gold]
    scores = tag_scores(gold, predicted, spans=True)
    for name, score in (("precision", precision_score), ("recall", recall_score),
                        ("f1", f1_score)):
        assert scores[name] == pytest.approx(score(gold, predicted))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nothing = tag_scores(gold, [["O"] * len(tags) for tags in gold], spans=True)
    assert (nothing["precision"], nothing["recall"], nothing["f1"]) == (0.0, 0.0, 0.0)


def test_predict_tags_refuses_an_empty_token_or_one_that_is_not_a_string() -> None:
    """An empty token (from ``"New  York".split(" ")``) was tagged as a word, here inside a
    person's span; a ``None`` token failed with 'NoneType' object is not subscriptable."""
    from rnnkit.pipelines.tagger_scoring import predict_tags

    model = _build()
    with pytest.raises(ValueError, match=r"sentence 2, token 2 is empty"):
        predict_tags(model, [["Anna"], ["John", "", "lives"]])
    with pytest.raises(TypeError, match=r"sentence 1, token 3 is None, not a string"):
        predict_tags(model, [["Anna", "left", None]])  # type: ignore[list-item]


def test_predict_tags_names_an_empty_sentence() -> None:
    """An empty sentence among others was refused as 'cannot tag an empty sentence', naming
    neither which one nor what to do."""
    from rnnkit.pipelines.tagger_scoring import predict_tags

    model = _build()
    with pytest.raises(ValueError, match=r"sentence 2 has no tokens: leave empty sentences out"):
        predict_tags(model, [["Anna", "left"], [], ["x"]])


def test_a_bundle_saved_without_data_settings_reads_files_only_when_told_how(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a tagger built and saved from Python without data= ended in KeyError: 'format' in
    # predict --input and evaluate --data (and KeyError: 'token_column' with --format iob)
    from rnnkit.cli import main

    bundle = str(save_bundle(_build(), tmp_path / "model.rnnkit"))
    iob = tmp_path / "test.iob"
    iob.write_text("Mary\tB-PER\nleft\tO\n\n", encoding="utf-8")
    for args in (["predict", "--input", str(iob)], ["evaluate", "--data", str(iob)],
                 ["predict", "--input", str(iob), "--format", "iob"]):
        assert main([args[0], "--model", bundle, *args[1:]]) == 2, args
        err = capsys.readouterr().err
        assert "does not keep how its training data was read (its data settings lack" in err
        assert "a Tagger saved from Python needs data=TaggerDataConfig(...).reader_settings()" \
            in err and "Traceback" not in err
    assert main(["predict", "--model", bundle, "--text", "Mary left"]) == 0  # needs none
    assert capsys.readouterr().out.split()[::2] == ["Mary", "left"]
    told = ["--format", "iob", "--token-column", "1", "--tag-column", "2"]
    assert main(["predict", "--model", bundle, "--input", str(iob), *told]) == 0
    assert capsys.readouterr().out.split()[::2] == ["Mary", "left"]
    assert main(["evaluate", "--model", bundle, "--data", str(iob), *told]) == 0
    assert '"sentences": 1' in capsys.readouterr().out
