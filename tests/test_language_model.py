"""Language model: stream batching, training with carried state, dropouts and bundles.

Generation, reading a user's text, the train lm command and evaluation are tested in
tests/test_language_model_*.py, which import TEXT and _model from here (as tests/test_cuda.py
imports _model).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.text_stream import (
    StreamBatches,
    batchify,
    build_stream_vocab,
    detokenize,
    split_text,
    tokenize,
)
from rnnkit.models.generate import SamplingConfig, generate
from rnnkit.models.language_model import LanguageModel, LMConfig, locked_dropout
from rnnkit.training.bundle import load_bundle, save_bundle
from rnnkit.training.trainer import Trainer

TEXT = "ROMEO:\nBut soft, what light through yonder window breaks?\n" * 8


def _model(level: str = "char", **options: object) -> tuple[LanguageModel, list[int]]:
    torch.manual_seed(0)
    tokens = tokenize(TEXT, level)
    vocab = build_stream_vocab(tokens, level)
    settings: dict[str, object] = {"level": level, "embedding_dim": 16, "input_dropout": 0.0,
                                   "hidden_dropout": 0.0, "output_dropout": 0.0}
    settings.update(options)
    config = LMConfig(**settings)  # type: ignore[arg-type]
    model = LanguageModel(vocab, config, ModelConfig(hidden_size=32, num_layers=2))
    return model, vocab.encode(tokens)


def test_tokenize_and_detokenize_round_trip() -> None:
    assert tokenize("to be\nor", "word") == ["to", "be", "<eos>", "or"]
    assert detokenize(tokenize("to be\nor not\n", "word"), "word") == "to be\nor not\n"
    assert detokenize(tokenize("a\n\n\nb\n\n", "word"), "word") == "a\n\n\nb\n\n"  # blank lines
    assert detokenize(tokenize("ab\nc", "char"), "char") == "ab\nc"
    with pytest.raises(ValueError, match="lm.level must be one of char, word"):
        tokenize("x", "byte")


def test_batchify_makes_columns_of_the_stream() -> None:
    data = batchify(list(range(10)), 2)  # [N, B] = [5, 2]
    assert data[:, 0].tolist() == [0, 1, 2, 3, 4] and data[:, 1].tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="too short for 8 columns"):
        batchify(list(range(10)), 8)
    # a batch size below 1 divided by zero (0) or said the text was too short (-2)
    for size in (0, -2):
        with pytest.raises(ValueError, match=f"batch_size must be >= 1, got {size}"):
            StreamBatches(list(range(10)), size, steps=4)
    # the window length is data.steps (there is no lm.steps setting)
    with pytest.raises(ValueError, match=r"steps must be >= 1 \(data.steps\), got 0"):
        StreamBatches(list(range(10)), 2, steps=0)


def test_stream_windows_cover_the_stream_and_targets_are_next_tokens() -> None:
    source = StreamBatches(list(range(41)), batch_size=2, steps=6, shuffle=True, seed=1)
    for epoch in range(3):
        windows = list(source.batches(epoch))
        inputs = torch.cat([w.inputs for w in windows])
        assert inputs[:, 0].tolist() == list(range(19))  # every position once, in order
        for window in windows:
            assert torch.equal(window.targets, window.inputs + 1)


def test_split_text_keeps_the_last_part_for_validation() -> None:
    assert split_text("abcdefghij", 0.1) == ("abcdefghi", "j")
    # a fraction that rounds the cut to the end: no validation text (an IndexError at word level)
    assert split_text("to be or not", 1e-17, "word") == ("to be or not", "")
    with pytest.raises(ValueError, match="data.validation_fraction must be in"):
        split_text("abc", 1.5)


def test_locked_dropout_uses_one_mask_for_every_step() -> None:
    torch.manual_seed(0)
    x = torch.ones(5, 3, 4)
    dropped = locked_dropout(x, 0.5, training=True)
    assert torch.equal(dropped, dropped[:1].expand_as(dropped))
    assert set(dropped.unique().tolist()) == {0.0, 2.0}  # dropped, and the kept ones x 1/(1-p)
    assert torch.equal(locked_dropout(x, 0.5, training=False), x)


def test_model_learns_the_text_with_carried_state_and_bundle_round_trips(tmp_path: Path
                                                                       ) -> None:
    model, ids = _model(weight_dropout=0.2, embedding_dropout=0.1, tie_weights=True)
    train = StreamBatches(ids, batch_size=4, steps=20, seed=0)
    before = model.evaluate(StreamBatches(ids, 4, 20, shuffle=False).batches(0))["loss"]
    config = TrainConfig(epochs=60, lr=2e-2, clip_norm=1.0, device="cpu", progress=False)
    Trainer(model, config, log=lambda _: None).fit(train)
    after = model.evaluate(StreamBatches(ids, 4, 20, shuffle=False).batches(0))
    assert after["loss"] < 0.5 * before and after["bpc"] == pytest.approx(
        after["loss"] / torch.log(torch.tensor(2.0)).item())
    assert model.decoder.weight is model.embedding.weight  # tied
    save_bundle(model, tmp_path / "lm.rnnkit")
    loaded = load_bundle(tmp_path / "lm.rnnkit")
    assert isinstance(loaded, LanguageModel)
    batch = next(StreamBatches(ids, 4, 20, shuffle=False).batches(0))
    model.eval()
    assert torch.equal(model(batch.inputs)[0], loaded(batch.inputs)[0])
    text = generate(loaded, SamplingConfig(prime="ROMEO:", length=40, temperature=0))
    assert text.startswith("ROMEO:\nBut soft")  # greedy continues the memorised text


def test_a_tied_bundle_stores_the_shared_matrix_once_and_loads_it_tied(tmp_path: Path
                                                                         ) -> None:
    """The decoder tied to the embedding was written twice (a word model's bundle nearly
    twice its weights). It is stored once; a bundle that holds both copies still loads tied."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from rnnkit.training.bundle import BundleError, read_bundle

    model, _ = _model("word", tie_weights=True)
    path = save_bundle(model.eval(), tmp_path / "lm.rnnkit")
    with safe_open(str(path), "pt") as stored:
        names = set(stored.keys())
    assert "embedding.weight" in names and "decoder.weight" not in names
    # format 2: an rnnkit that reads format 1 only says so, not that decoder.weight is missing
    assert read_bundle(path)[0]["format_version"] == "2"
    assert read_bundle(save_bundle(_model("word")[0], tmp_path / "untied.rnnkit")
                       )[0]["format_version"] == "1"
    state = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    older = tmp_path / "older.rnnkit"  # both copies, no shared_weights: as before
    metadata = {k: v for k, v in read_bundle(path)[0].items()
                if k not in ("shared_weights", "weights_sha256")} | {"format_version": "1"}
    save_file(state, str(older), metadata=metadata)
    matrix = state["embedding.weight"].numel() * 4
    assert path.stat().st_size < older.stat().st_size - matrix + 1000
    inputs = torch.tensor([[1, 2, 3, 4]]).t()
    for file in (path, older):
        loaded = load_bundle(file)
        assert isinstance(loaded, LanguageModel)
        assert loaded.decoder.weight is loaded.embedding.weight  # tied again
        assert all(torch.equal(loaded.state_dict()[name], state[name]) for name in state)
        assert torch.equal(loaded(inputs)[0], model(inputs)[0])
    metadata, tensors = read_bundle(path)
    metadata.pop("weights_sha256")  # the header alone is damaged here
    tensors = {name: tensor.clone() for name, tensor in tensors.items()}
    for shared, message in (('{"decoder.weight": "embedding.w"}', "but the file lacks "
                             "embedding.w"), ("[1]", "is not a map of tensor names")):
        tensors.pop("decoder.weight", None)
        save_file(tensors, str(path), metadata={**metadata, "shared_weights": shared})
        with pytest.raises(BundleError, match=f"lm.rnnkit: its header.*{message}"):
            load_bundle(path)


def test_weight_dropout_only_changes_training_outputs() -> None:
    model, ids = _model(weight_dropout=0.5)
    inputs = torch.tensor(ids[:10]).unsqueeze(1)
    model.train()
    torch.manual_seed(1)
    first = model(inputs)[0]
    torch.manual_seed(2)
    assert not torch.allclose(first, model(inputs)[0])
    model.eval()
    assert torch.equal(model(inputs)[0], model(inputs)[0])


def test_bidirectional_language_model_is_refused() -> None:
    vocab = build_stream_vocab(list("ab"), "char")
    with pytest.raises(ValueError, match="reads left to right"):
        LanguageModel(vocab, LMConfig(), ModelConfig(bidirectional=True))


def test_weight_dropout_on_the_loop_kernel_is_refused() -> None:
    vocab = build_stream_vocab(list("ab"), "char")
    with pytest.raises(ValueError, match="weight_dropout needs the fused kernel"):
        LanguageModel(vocab, LMConfig(weight_dropout=0.1), ModelConfig(kernel="loop"))


def test_evaluate_gives_the_training_mode_back_even_when_a_batch_fails() -> None:
    model, ids = _model()
    model.train()

    def batches():  # noqa: ANN202 - a generator that breaks after one window
        yield from StreamBatches(ids, batch_size=2, steps=5).batches(0)
        raise RuntimeError("the data broke")

    with pytest.raises(RuntimeError, match="the data broke"):
        model.evaluate(batches())
    assert model.training  # eval mode only inside evaluate, also on the way out of an error
    model.eval()
    model.evaluate(StreamBatches(ids, batch_size=2, steps=5).batches(0))
    assert not model.training
