"""Language model: stream batching, training with carried state, bundles, generation, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.config import ModelConfig, TrainConfig
from rnnkit.data.text_stream import (
    StreamBatches,
    batchify,
    build_stream_vocab,
    detokenize,
    split_text,
    tokenize,
)
from rnnkit.models.generate import SamplingConfig, filter_scores, generate
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


def test_sampling_is_repeatable_with_a_seed_and_streams_every_piece() -> None:
    model, _ = _model()
    pieces: list[str] = []
    config = SamplingConfig(prime="RO", length=30, temperature=1.0, top_k=5, seed=7)
    text = generate(model, config, on_text=pieces.append)
    assert "".join(pieces) == text and len(text) == 32
    assert generate(model, config) == text
    assert generate(model, SamplingConfig(prime="RO", length=30, seed=8)) != text
    greedy = generate(model, SamplingConfig(prime="RO", length=30, temperature=0))
    assert generate(model, SamplingConfig(prime="RO", length=30, top_k=1, seed=3)) == greedy
    assert generate(model, SamplingConfig(prime="RO", length=30, top_p=1e-6, seed=3)) == greedy
    tiny = SamplingConfig(prime="RO", length=30, temperature=1e-40, seed=3)  # no inf / inf
    assert generate(model, tiny) == greedy


def test_filter_scores_keeps_top_k_and_the_top_p_nucleus() -> None:
    scores = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert torch.isinf(filter_scores(scores, 2, 1.0)).tolist() == [False, False, True, True]
    assert torch.isinf(filter_scores(scores, 0, 0.7)).tolist() == [False, False, True, True]
    assert torch.isinf(filter_scores(scores, 0, 0.5)).tolist() == [False, True, True, True]


def test_bad_primes_and_settings_are_clear_errors() -> None:
    model, _ = _model()
    with pytest.raises(ValueError, match=r"never saw in training: \['Z', 'é'\]"):
        generate(model, SamplingConfig(prime="Zé", length=5))
    with pytest.raises(ValueError, match="sample.top_p must be above 0 and at most 1"):
        generate(model, SamplingConfig(top_p=0.0))
    with pytest.raises(ValueError, match="sample.temperature must be at least 0"):
        generate(model, SamplingConfig(temperature=-1.0))


def test_word_level_model_maps_unknown_prime_words_to_unk() -> None:
    model, _ = _model("word", embedding_dim=32)
    pieces: list[str] = []
    text = generate(model, SamplingConfig(prime="Juliet speaks", length=5, seed=0),
                    on_text=pieces.append)
    assert text.startswith("Juliet speaks ") and "<unk>" not in text
    assert "".join(pieces).split() == text.split()  # the stream shows the same words
    assert "perplexity" in model.metric_names() and "bpc" not in model.metric_names()


def test_a_word_prime_s_line_break_is_kept_with_spaces_after_it() -> None:
    from rnnkit.models.generate import prime_ids

    model, _ = _model("word", embedding_dim=32)
    for prime in ("ROMEO:\n", "ROMEO:\n ", "ROMEO:\n\t"):  # the model reads ROMEO: <eos>
        assert model.vocab.decode(prime_ids(model, prime)) == ["ROMEO:", "<eos>"], repr(prime)
        text = generate(model, SamplingConfig(prime=prime, length=3, temperature=0))
        assert text.startswith(prime) and not text[len(prime)].isspace()  # no space added
    assert model.vocab.decode(prime_ids(model, "ROMEO:")) == ["ROMEO:"]


def test_bidirectional_language_model_is_refused() -> None:
    vocab = build_stream_vocab(list("ab"), "char")
    with pytest.raises(ValueError, match="reads left to right"):
        LanguageModel(vocab, LMConfig(), ModelConfig(bidirectional=True))


@pytest.mark.parametrize(("settings", "message"), [
    (["model.bidirectional=true"], "a language model reads left to right"),
    (["lm.weight_dropout=0.2", "model.layer_norm=true"], "lm.weight_dropout runs on the fused"),
    (["lm.weight_dropout=0.2", "model.recurrent_dropout=0.1"], "runs on the fused kernel"),
    (["lm.weight_dropout=0.2", "model.kernel=loop"], "lm.weight_dropout needs the fused kernel"),
])
def test_print_config_refuses_what_the_model_refuses(
        settings: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config (and --nproc N's check) passed these, and a run refused them only once
    the text was read and its vocabulary built, when the model was."""
    args = [part for setting in settings for part in ("--set", setting)]
    assert main(["train", "lm", *args, "--print-config"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and not captured.out


def test_cli_trains_and_generates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    out = tmp_path / "run"
    code = main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 "--set", "train.epochs=2", "--set", "model.hidden_size=16",
                 "--set", "train.batch_size=4", "--set", "data.steps=20",
                 "--set", "data.eval_batch_size=2", "--set", "sample.length=20",
                 "--set", "train.progress=false", "--set", "train.device=cpu"])
    assert code == 0
    assert (out / "model.rnnkit").exists() and (out / "sample.txt").exists()
    capsys.readouterr()
    args = ["generate", "--model", str(out / "model.rnnkit"), "--prime", "ROMEO:",
            "--length", "30", "--temperature", "0.8", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 30 + 1
    assert main(args) == 0 and capsys.readouterr().out == first
    assert main(["generate", "--model", str(out / "model.rnnkit"), "--prime", "§"]) == 2
    assert "never saw in training" in capsys.readouterr().err


def test_weight_dropout_on_the_loop_kernel_is_refused() -> None:
    vocab = build_stream_vocab(list("ab"), "char")
    with pytest.raises(ValueError, match="weight_dropout needs the fused kernel"):
        LanguageModel(vocab, LMConfig(weight_dropout=0.1), ModelConfig(kernel="loop"))


@pytest.mark.parametrize(("setting", "message"), [
    ("sample.top_p=2", "sample.top_p must be above 0 and at most 1"),
    ("sample.length=-1", "sample.length must be at least 0"),
    ("sample.prime=§", "sample.prime: the prime holds characters the model never saw"),
    ("data.steps=0", "data.steps must be at least 1"),
    ("data.eval_batch_size=0", "data.eval_batch_size must be at least 1"),
    ("train.batch_size=0", "train.batch_size must be at least 1"),
    ("data.validation_fraction=1", "data.validation_fraction must be between 0 and 1"),
    # a character model keeps every character: it was accepted and did nothing
    ("data.min_count=3", "data.min_count is read only at word level (lm.level=word)"),
])
def test_bad_settings_are_refused_before_training(
    setting: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "run"
    code = main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 "--set", "train.epochs=1", "--set", "model.hidden_size=8",
                 "--set", "train.batch_size=4", "--set", "data.steps=10",
                 "--set", "data.eval_batch_size=2", "--set", "sample.length=5",
                 "--set", "train.progress=false", "--set", "train.threads=1",
                 "--set", setting])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (out / "model.rnnkit").exists()


def test_a_hidden_size_that_tied_weights_leave_unread_is_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    """With tied weights the last layer is lm.embedding_dim wide, so one layer never read
    model.hidden_size: a 32-wide model was trained where 512 was asked for, without a word."""
    tied = ["train", "lm", "--set", "lm.tie_weights=true", "--set", "model.num_layers=1",
            "--set", "lm.embedding_dim=32", "--print-config"]
    assert main([*tied, "--set", "model.hidden_size=512"]) == 2
    assert "model.hidden_size=512 is not read: with lm.tie_weights=true and one layer, that " \
        "layer's size is lm.embedding_dim (32)" in capsys.readouterr().err
    for read in (["--set", "model.hidden_size=32"], [], ["--set", "model.num_layers=2",
                                                        "--set", "model.hidden_size=512"]):
        assert main([*tied, *read]) == 0
    capsys.readouterr()


def test_print_config_refuses_a_misspelt_level(capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config (and train --nproc N's check before the processes start) passed it."""
    assert main(["train", "lm", "--set", "lm.level=words", "--print-config"]) == 2
    assert "lm.level must be one of char, word; got 'words'" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--length", "-5"], "--length must be at least 0; got -5"),
    (["--temperature", "-1"], "--temperature must be at least 0; got -1.0"),
    (["--top-k", "-1"], "--top-k must be at least 0; got -1"),
    (["--top-p", "0"], "--top-p must be above 0 and at most 1"),
    (["--prime", "Zebra"], "--prime 'Zebra': the prime holds characters the model never saw"),
])
def test_generate_names_its_flags(flags: list[str], message: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    model, _ = _model()
    save_bundle(model, tmp_path / "lm.rnnkit")
    assert main(["generate", "--model", str(tmp_path / "lm.rnnkit"), *flags]) == 2
    assert message in capsys.readouterr().err  # not the sample.* keys of `train lm`


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


def test_a_validation_text_too_short_names_its_own_setting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "tiny.txt"
    text.write_text(TEXT * 4)  # 1.3k characters; 1% of them cannot fill 16 columns
    assert main(["train", "lm", "--file", str(text), "--out", str(tmp_path / "run"),
                 "--set", "train.batch_size=2", "--set", "data.validation_fraction=0.01",
                 "--set", "model.hidden_size=8", "--set", "train.threads=1"]) == 2
    err = capsys.readouterr().err
    assert "too short for 16 columns" in err and "a smaller data.eval_batch_size" in err


def test_a_one_line_text_s_final_line_break_names_the_validation_split(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a file of one line said "the validation text holds characters never seen in training:
    # ['\\n']; train on text that contains them", though the file given does contain them
    text = tmp_path / "one_line.txt"
    text.write_text("the cat sat on the mat. " * 100 + "\n")
    assert main(["train", "lm", "--file", str(text), "--out", str(tmp_path / "run"),
                 "--set", "train.batch_size=2", "--set", "model.hidden_size=8"]) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: the validation text (the last 0.1 of the text, data.validation_fraction)"
        " holds characters never seen in training: ['\\n']; the training text before it has "
        "none of them, and a character model cannot score a character it never saw: have them "
        "occur before the end too (or remove them from it), or change "
        "data.validation_fraction\n")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("level", ["char", "word"])
def test_a_validation_fraction_that_leaves_no_training_text_says_so(
        level: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a character model listed every character of the text as 'never seen in training'; a word
    # model said 'the training text holds no word, only line breaks' of an empty training text
    text = tmp_path / "play.txt"
    text.write_text(TEXT)  # 464 characters: 0.999 leaves 0 of them to train on
    assert main(["train", "lm", "--file", str(text), "--out", str(tmp_path / "run"),
                 "--set", f"lm.level={level}", "--set", "data.validation_fraction=0.999"]) == 2
    assert capsys.readouterr().err == (
        f"rnnkit: error: data.validation_fraction=0.999 leaves no {level} token to train on "
        f"(the first 0 of the text's {len(TEXT)} characters); use a smaller "
        "data.validation_fraction or a longer text\n")
    assert not (tmp_path / "run").exists()


def test_a_file_of_whitespace_is_not_said_to_be_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # '   \n' was refused as 'is empty: a language model needs text to learn from', by
    # rnnkit evaluate too, which learns nothing
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.txt").write_text("   \n\n")
    for name, message in (("empty.txt", "is empty"),
                          ("blank.txt", "holds only whitespace (5 characters)")):
        path = tmp_path / name
        with pytest.raises(ValueError) as error:
            read_text(LMDataConfig(dataset="", file=str(path)))
        assert str(error.value) == (f"{path} {message}: a language model needs text to learn "
                                    "from or to be scored on")


def test_model_dropout_is_refused_for_a_language_model(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    assert main(["train", "lm", "--set", "model.dropout=0.3", "--print-config"]) == 2
    assert "its dropout between layers is lm.hidden_dropout" in capsys.readouterr().err
    vocab = build_stream_vocab(list("ab"), "char")
    with pytest.raises(ValueError, match="model.dropout=0.3 is not read by a language model"):
        LanguageModel(vocab, LMConfig(), ModelConfig(num_layers=2, dropout=0.3))


def test_generate_gives_back_the_model_s_mode() -> None:
    model, _ = _model()
    for mode in (True, False):
        model.train(mode)
        text = generate(model, SamplingConfig(prime="RO", length=5, seed=0))
        assert text.startswith("RO") and len(text) == 7
        assert model.training is mode  # sampling between training steps keeps dropout on


def test_streamed_words_are_the_returned_text_and_a_tiny_temperature_is_greedy() -> None:
    from rnnkit.config import ConfigError

    model, _ = _model("word")
    for prime in ("ROMEO:", ""):
        pieces: list[str] = []
        config = SamplingConfig(prime=prime, length=40, seed=3)
        text = generate(model, config, on_text=pieces.append)
        assert "".join(pieces) == text and " \n" not in text and not text.endswith(" ")
    greedy = generate(model, SamplingConfig(prime="ROMEO:", length=8, temperature=0))
    assert generate(model, SamplingConfig(prime="ROMEO:", length=8, temperature=1e-300)) == greedy
    with pytest.raises(ConfigError, match="sample.seed must be a whole number from 0 to 2"):
        generate(model, SamplingConfig(length=1, seed=2**64))


def test_the_text_file_is_read_as_utf8_without_its_byte_order_mark(tmp_path: Path) -> None:
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    path = tmp_path / "text.txt"
    path.write_bytes("\ufeffhello\nworld\n".encode())
    assert read_text(LMDataConfig(file=str(path))) == "hello\nworld\n"  # no "\ufeff" to learn
    path.write_bytes(b"hello\nw\xf6rld\n")
    with pytest.raises(ValueError, match=f"{path}:2: not UTF-8 text"):
        read_text(LMDataConfig(file=str(path)))


def test_a_gzipped_text_file_is_read_decompressed(tmp_path: Path) -> None:
    """data.file=text.txt.gz was refused as 'not UTF-8 text (invalid start byte ...)', while
    the other readers (classifier, tagger, word2vec) decompress a .gz file."""
    import gzip

    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    path = tmp_path / "text.txt.gz"
    path.write_bytes(gzip.compress("\ufeffhello\nworld\n".encode()))
    assert read_text(LMDataConfig(file=str(path))) == "hello\nworld\n"
    path.write_bytes(b"hello\n")
    with pytest.raises(ValueError, match=f"{path}: not gzip data"):
        read_text(LMDataConfig(file=str(path)))


def test_windows_and_old_mac_line_endings_read_as_line_breaks(tmp_path: Path) -> None:
    """A CRLF file taught a character model '\r' as a character of its own, written before
    every line break it generated (and lone CRs were no line breaks)."""
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    path = tmp_path / "text.txt"
    path.write_bytes(b"ROMEO:\r\nBut soft!\r\n\r\nJULIET:\rAy me.\r")
    assert read_text(LMDataConfig(file=str(path))) == "ROMEO:\nBut soft!\n\nJULIET:\nAy me.\n"


def test_a_text_file_names_the_default_run_folder_and_excludes_dataset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--set data.file=play.txt trained on the file but wrote runs/lm-tinyshakespeare (the
    default dataset's folder, an earlier run there cleared); --file with --dataset trained on
    the file and said nothing of the dataset."""
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "lm", "--set", f"data.file={str(corpus)!r}",
                 "--set", "train.epochs=1", "--set", "model.hidden_size=8",
                 "--set", "train.batch_size=4", "--set", "data.steps=20",
                 "--set", "data.eval_batch_size=2", "--set", "sample.length=5",
                 "--set", "train.progress=false", "--set", "train.device=cpu"]) == 0
    assert (tmp_path / "runs" / "lm-play" / "model.rnnkit").exists()
    assert not (tmp_path / "runs" / "lm-tinyshakespeare").exists()
    capsys.readouterr()
    assert main(["train", "lm", "--file", str(corpus), "--dataset", "tinyshakespeare",
                 "--print-config"]) == 2
    assert "--file" in (err := capsys.readouterr().err) and "give one of them" in err


def test_a_min_count_that_keeps_no_word_is_refused_before_training(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every word rarer than data.min_count left <pad> and <unk> alone: training ran, then the
    sample failed in torch.multinomial ('probability tensor contains ... nan'), no results."""
    corpus = tmp_path / "line.txt"
    corpus.write_text("to be or not to be that is the question " * 40, encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 "--set", "lm.level=word", "--set", "data.min_count=1000",
                 "--set", 'sample.prime="to be"', "--set", "model.hidden_size=8",
                 "--set", "train.batch_size=4", "--set", "data.steps=10",
                 "--set", "data.eval_batch_size=2", "--set", "train.progress=false",
                 "--set", "train.device=cpu"]) == 2
    err = capsys.readouterr().err
    assert "data.min_count=1000 keeps no word" in err and "'to', seen 72 times" in err
    assert not (out / "model.rnnkit").exists()
    with pytest.raises(ValueError, match="holds no word"):
        build_stream_vocab(tokenize("\n\n\n", "word"), "word")


def test_a_temperature_beyond_float32_samples_as_a_large_one() -> None:
    """A temperature above 3.4e38 became inf in float32: -inf / inf = nan for <pad>, and
    torch.multinomial failed ('probability tensor contains either inf, nan ...'); in train lm
    only after training. Any temperature that large samples uniformly, as 1e30 does."""
    model, _ = _model()
    uniform = generate(model, SamplingConfig(prime="RO", length=30, temperature=1e30, seed=4))
    for temperature in (1e39, 1e300):
        config = SamplingConfig(prime="RO", length=30, temperature=temperature, seed=4)
        assert generate(model, config) == uniform


def test_a_word_prime_ending_in_a_space_gets_no_second_one() -> None:
    """A word prime "ROMEO: " came back as "ROMEO:  But ...": the separator went after the
    prime's own space (a line break's was the only whitespace it checked)."""
    model, _ = _model("word", embedding_dim=32)
    for prime in ("ROMEO: ", "But soft,\t"):
        pieces: list[str] = []
        text = generate(model, SamplingConfig(prime=prime, length=4, seed=1),
                        on_text=pieces.append)
        assert text.startswith(prime) and not text[len(prime)].isspace(), repr(text)
        assert "".join(pieces) == text


def test_a_word_prime_followed_by_a_line_break_gets_no_space_before_it() -> None:
    """A word prime "ROMEO:" whose first generated token was <eos> came back (and streamed)
    as "ROMEO: \\n...": the space after the prime was written before the token was drawn; with
    length 0 the text was "ROMEO: "."""
    model, _ = _model("word", embedding_dim=32)
    starts = set()
    for seed in range(10):
        pieces: list[str] = []
        text = generate(model, SamplingConfig(prime="ROMEO:", length=3, seed=seed),
                        on_text=pieces.append)
        assert " \n" not in text and "".join(pieces) == text, repr(text)
        starts.add(text[len("ROMEO:")])
    assert starts == {" ", "\n"}  # both cases were drawn
    assert generate(model, SamplingConfig(prime="ROMEO:", length=0)) == "ROMEO:"


def test_a_top_p_below_float32_s_range_keeps_the_most_likely_token() -> None:
    """A top_p of 1e-50 rounded to 0 in the float32 comparison, so even the most likely token
    was dropped: every score -inf, and torch.multinomial failed ('probability tensor contains
    either inf, nan ...'), a traceback from rnnkit generate."""
    scores = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert torch.isinf(filter_scores(scores, 0, 1e-50)).tolist() == [False, True, True, True]
    model, _ = _model()
    greedy = generate(model, SamplingConfig(prime="RO", length=10, temperature=0))
    assert generate(model, SamplingConfig(prime="RO", length=10, top_p=1e-300)) == greedy


def test_a_text_too_short_is_reported_before_a_missing_line_break(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A one-line word text too short for the batch said "sample.prime: give a prime: the
    model has no line break to start from"; a prime given, the text was then too short."""
    corpus = tmp_path / "line.txt"
    corpus.write_text("to be or not to be that is the question", encoding="utf-8")
    assert main(["train", "lm", "--file", str(corpus), "--out", str(tmp_path / "run"),
                 "--set", "lm.level=word", "--set", "model.hidden_size=8",
                 "--set", "train.threads=1"]) == 2
    err = capsys.readouterr().err
    assert "too short for 32 columns" in err and "prime" not in err


def test_a_text_of_one_line_asks_for_a_prime_saying_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A text of one line (no line break, a sample's default start) was refused before
    training as 'sample.prime: give a prime: the model has no line break to start from',
    which did not say why the setting, never given, was wanted nor what to give."""
    corpus = tmp_path / "line.txt"
    corpus.write_text("to be or not to be, that is the question. " * 200, encoding="utf-8")
    run = ["train", "lm", "--file", str(corpus), "--out", str(tmp_path / "run"), "--set",
           "model.hidden_size=8", "--set", "train.threads=1", "--set", "train.epochs=1"]
    assert main(run) == 2
    assert capsys.readouterr().err == (
        "rnnkit: error: sample.prime: the model saw no line break in training (its text is one "
        "line), which a sample starts from when no prime is given; give a prime, the text the "
        "sample starts with, such as its first word\n")
    assert main([*run, "--set", "sample.prime=to", "--set", "train.progress=false"]) == 0


def train_on_play(tmp_path: Path, *settings: str) -> Path:
    """``train lm`` on ``TEXT * 3`` (``tmp_path/play.txt``) with ``settings`` beside two
    validation columns, a 5-token sample and no progress bar; the run folder."""
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    out = tmp_path / "run"
    sets = [*settings, "data.eval_batch_size=2", "sample.length=5", "train.progress=false"]
    assert main(["train", "lm", "--file", str(corpus), "--out", str(out),
                 *[part for item in sets for part in ("--set", item)]]) == 0
    return out


def tiny_resumable_run(corpus: Path, out: Path) -> list[str]:
    """train lm on ``corpus`` for 2 steps; its last 4 items (sample and progress settings)
    may be cut off for the --resume that follows."""
    return ["train", "lm", "--file", str(corpus), "--out", str(out),
            "--set", "train.epochs=2", "--set", "train.max_steps=2",
            "--set", "model.hidden_size=8", "--set", "train.batch_size=4",
            "--set", "data.steps=20", "--set", "data.eval_batch_size=2",
            "--set", "sample.length=5", "--set", "train.progress=false"]


def test_resume_refuses_a_text_edited_into_another_vocabulary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3, encoding="utf-8")
    out = tmp_path / "run"
    args = tiny_resumable_run(corpus, out)
    assert main(args) == 0 and (out / "last.pt").exists()
    # as many characters as before, but one other: the checkpoint's ids would mean other ones
    letter = next(c for c in "abcdefghijklmnopqrstuvwxyz" if c in TEXT)
    stand_in = next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in TEXT)
    corpus.write_text((TEXT * 3).replace(letter, stand_in), encoding="utf-8")
    capsys.readouterr()
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 2
    error = capsys.readouterr().err
    assert "built from other data" in error and "vocab" in error and "Traceback" not in error
    corpus.write_text(TEXT * 3, encoding="utf-8")  # the text as it was: the run goes on
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 0


def test_resume_of_a_run_that_learned_carriage_returns_says_why_it_cannot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run trained on a CRLF file before read_text read its line endings as \\n learned
    '\\r' as a character; its resume on the same, unchanged file was refused as 'was the data
    file changed since? Resume with the data the run started with', which it was."""
    import rnnkit.pipelines.language_model as pipeline

    corpus = tmp_path / "play.txt"
    corpus.write_bytes((TEXT * 3).replace("\n", "\r\n").encode("utf-8"))
    out = tmp_path / "run"
    args = tiny_resumable_run(corpus, out)
    with monkeypatch.context() as earlier:  # as the text was read before: '\r' a character
        earlier.setattr(pipeline, "read_text",
                        lambda data: Path(data.file).read_bytes().decode("utf-8"))
        assert main(args) == 0 and (out / "last.pt").exists()
    capsys.readouterr()
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 2
    error = capsys.readouterr().err
    assert "vocab" in error and "Windows (CRLF) or old Mac (CR) line endings" in error
    assert "train the model again (drop --resume, or use a new --out)" in error
    corpus.write_text(TEXT * 3, encoding="utf-8")  # an edited text has no such word
    assert main([*args[:-4], "--set", "train.max_steps=4", "--resume"]) == 2
    assert "line endings" not in capsys.readouterr().err


@pytest.mark.parametrize(("dataset", "task"), [("sst", "classification"),
                                               ("multi30k", "translation")])
def test_a_registry_dataset_of_another_task_is_refused_up_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], dataset: str, task: str) -> None:
    """train lm --dataset sst was refused only once the text was read ('dataset 'sst' is sst,
    not text'), so --print-config (and --nproc N's check) passed it; it is now refused there,
    worded as the tagger and classifier refuse a dataset of another task."""
    assert main(["train", "lm", "--dataset", dataset, "--out", str(tmp_path / "run"),
                 "--print-config"]) == 2
    assert (f"dataset {dataset!r} is a {task} dataset, and a language model reads language "
            "model datasets (tinyshakespeare)") in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_unseen_validation_words_with_no_training_unk_are_noted() -> None:
    """With data.min_count=1 no training word is <unk>, so the model never learns it and every
    unseen validation word is scored at an untrained guess: the run said nothing of it."""
    from rnnkit.data.text_stream import build_stream_vocab
    from rnnkit.pipelines.language_model import encode_stream, untrained_unknown

    train = ["the", "cat", "sat", "on", "the", "mat", "the", "end"]
    val = ["the", "dog", "sat", "on", "the", "log"]
    vocab = build_stream_vocab(train, "word", min_count=1)
    note = untrained_unknown(encode_stream(train, vocab, "t"), encode_stream(val, vocab, "v"),
                             vocab)
    assert note.startswith("2 of 6 validation words (33.3%) were never seen in training")
    assert "(data.min_count=1)" in note and "data.min_count=2 or more trains <unk>" in note
    twice = ["a", "b", "a", "b", "c", "c"]  # every word twice: min_count=2 leaves none rare
    vocab2 = build_stream_vocab(twice, "word", min_count=2)
    note = untrained_unknown(encode_stream(twice, vocab2, "t"),
                             encode_stream(["a", "d"], vocab2, "v"), vocab2, min_count=2)
    assert "(data.min_count=2)" in note and "data.min_count=3 or more" in note
    rare = build_stream_vocab(train, "word", min_count=2)  # cat, sat, ... become <unk>
    assert untrained_unknown(encode_stream(train, rare, "t"), encode_stream(val, rare, "v"),
                             rare) == ""
    assert untrained_unknown(encode_stream(train, vocab, "t"),
                             encode_stream(["the", "cat"], vocab, "v"), vocab) == ""
    chars = build_stream_vocab(list("abc"), "char")
    assert untrained_unknown([1, 2], [1, 2], chars) == ""


def test_evaluate_scores_a_saved_model_on_a_text_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rnnkit evaluate refused language models ('use rnnkit generate'): there was no way to
    get the perplexity of a saved model on new text."""
    import json
    import math

    from rnnkit.data.text_stream import StreamBatches, tokenize
    from rnnkit.pipelines.language_model import load_language_model

    out = train_on_play(tmp_path, "train.epochs=1", "model.hidden_size=16",
                        "train.batch_size=4", "data.steps=20", "train.device=cpu")
    held_out = tmp_path / "held_out.txt"
    held_out.write_text(TEXT[:300], encoding="utf-8")
    capsys.readouterr()
    bundle = str(out / "model.rnnkit")
    assert main(["evaluate", "--model", bundle, "--data", str(held_out), "--out",
                 str(tmp_path / "scores")]) == 0
    printed = json.loads(capsys.readouterr().out)
    model = load_language_model(bundle)
    ids = model.vocab.encode(tokenize(TEXT[:300], "char"))
    expected = model.evaluate(StreamBatches(ids, 16, 100, shuffle=False).batches(0))
    assert printed["tokens"] == (300 // 16 - 1) * 16 and printed["columns"] == 16
    assert math.isclose(printed["loss"], expected["loss"], rel_tol=1e-9)
    assert math.isclose(printed["perplexity"], math.exp(printed["loss"]), rel_tol=1e-9)
    assert math.isclose(printed["bpc"], printed["loss"] / math.log(2), rel_tol=1e-9)
    saved = json.loads((tmp_path / "scores" / "evaluation.json").read_text())
    assert saved["loss"] == printed["loss"]
    (tmp_path / "odd.txt").write_text("§§§", encoding="utf-8")
    for args, message in (
            # the advice was 'train on text that contains them', for a model already trained
            (["--data", str(tmp_path / "odd.txt")], "never seen in training: ['§']; a "
             "character model cannot score a character it never saw: remove them from the "
             "file, or score a model trained on text that has them"),
            (["--data", str(tmp_path / "missing.txt")], "no such file"),
            (["--data", "tinyshakespeare"], "--data tinyshakespeare is a registry dataset; a "
                                            "language model is scored on a text file"),
            ([], "needs --data: a UTF-8 text file"),
            (["--data", str(held_out), "--split", "dev"], "--split is not read for a language"),
            (["--data", str(held_out), "--format", "iob"], "reads --format only for")):
        assert main(["evaluate", "--model", bundle, *args]) == 2
        assert message in capsys.readouterr().err
    (tmp_path / "one.txt").write_text("R", encoding="utf-8")
    assert main(["evaluate", "--model", bundle, "--data", str(tmp_path / "one.txt")]) == 2
    assert "holds 1 char token(s); a language model is scored on 2 or more" in \
        capsys.readouterr().err


def test_tokens_per_second_counts_the_windows_of_an_epoch_cut_short(tmp_path: Path) -> None:
    from rnnkit.pipelines.language_model import trained_tokens

    model, _ = _model()
    source = StreamBatches(list(range(1, 42)), batch_size=2, steps=4, shuffle=False)
    # 20 rows a column, 19 predicted: windows of 4, 4, 4, 4 and 3 time steps, 2 columns each
    assert trained_tokens(source, model, 2, 0) == 16
    assert trained_tokens(source, model, 5, 0) == source.tokens() == 38
    assert trained_tokens(source, model, 7, 0) == 38 + 16  # into the second epoch
    assert trained_tokens(source, model, 3, 3) == (3 + 1 + 3) * 2  # train.tbptt_steps=3
    out = train_on_play(tmp_path, "train.max_steps=3", "model.hidden_size=8",
                        "train.batch_size=2", "data.steps=10")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["stopped"] == "max_steps" and results["epochs"] == 0
    assert results["tokens_per_second"] > 0  # was 0.0: only whole epochs were counted


def test_evaluate_counts_the_unknown_words_it_scores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rnnkit evaluate's unknown_tokens counted <unk> over every token of the file, beside
    "tokens", those it predicts: an unknown word heading a column (given, never scored) or in
    the tail that fills no column counted, so the two did not make a rate (tiny-shakespeare's
    validation text, a 6,472-word model: 3,769 unknown of 24,608 scored, 3,767 of them
    scored)."""
    model, _ = _model("word", embedding_dim=32)
    bundle = tmp_path / "model.rnnkit"
    save_bundle(model, bundle)
    # 2 columns of 3 tokens, the 7th left over: "zz" heads column 1, "qq" is the tail; only
    # "xx" (predicted in column 0) is scored
    (tmp_path / "held.txt").write_text("ROMEO: xx But zz soft, But qq", encoding="utf-8")
    from rnnkit.pipelines.language_model import evaluate_text

    result = evaluate_text(load_bundle(bundle), tmp_path / "held.txt", batch_size=2)
    assert (result["tokens"], result["columns"]) == (4, 2)
    assert result["unknown_tokens"] == 1  # was 3


def test_a_word_run_reports_the_unknown_words_its_validation_scores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """<unk> is predicted and scored as one word, so the validation perplexity of a word model
    falls as data.min_count turns more words into <unk> (tiny-shakespeare, an add-1/2 unigram:
    1,068 at min_count=1, 217 at 3, 94 at 10): train lm said how many validation words were
    <unk> only when none of the training text was; results.json and the log now say it."""
    from rnnkit.pipelines.language_model import LMDataConfig, read_text

    corpus = tmp_path / "play.txt"
    corpus.write_text(TEXT * 3 + "Juliet sleeps, Juliet dreams\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "lm", "--file", str(corpus), "--out", str(out), "--set",
                 "lm.level=word", "--set", "data.min_count=2", "--set", "train.epochs=1",
                 "--set", "model.hidden_size=8", "--set", "train.batch_size=4", "--set",
                 "data.steps=20", "--set", "data.eval_batch_size=2", "--set",
                 "sample.length=5", "--set", "train.progress=false"]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    vocab = load_bundle(out / "model.rnnkit").vocab
    _, val_text = split_text(read_text(LMDataConfig(file=str(corpus))), 0.1, "word")
    columns = batchify(vocab.encode(tokenize(val_text, "word")), 2)  # [N, 2]
    expected = int((columns[1:] == vocab.unk_id).sum())  # the predicted ones
    assert expected == 4  # Juliet sleeps, Juliet dreams
    assert results["validation_unknown_tokens"] == expected
    assert (f"({expected} of the {results['validation_tokens']} tokens scored are <unk>"
            in capsys.readouterr().out)
    (tmp_path / "char").mkdir()
    char = train_on_play(tmp_path / "char", "train.epochs=1", "model.hidden_size=8",
                         "train.batch_size=4", "data.steps=20")
    assert "validation_unknown_tokens" not in json.loads((char / "results.json").read_text())


def test_generate_s_length_says_a_line_break_counts_as_a_word(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--length counts tokens, and a word model's line breaks are tokens: --length 40 of a
    tiny-shakespeare word model gave 24 words and 16 line breaks, while its help said only
    'tokens to generate'."""
    model, _ = _model("word", embedding_dim=32)
    bundle = tmp_path / "model.rnnkit"
    save_bundle(model, bundle)
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    assert "or for a word model words and line breaks, each line break one of them" in \
        " ".join(capsys.readouterr().out.split())
    assert main(["generate", "--model", str(bundle), "--prime", "ROMEO:", "--length", "40",
                 "--seed", "3"]) == 0
    text = capsys.readouterr().out[len("ROMEO:"):-1]  # the prime, then a final line break
    assert len(tokenize(text, "word")) == 40
