"""Gradient flow (training.diagnostics) on the task models that read padding or streams: the
translation model's encoder and decoder, and the language model."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F

import rnnkit
from rnnkit.cells import LSTMCell
from rnnkit.config import ModelConfig
from rnnkit.data.subword import PAD_ID, SubwordTokenizer
from rnnkit.data.text_stream import StreamBatches, build_stream_vocab, tokenize
from rnnkit.models.language_model import LanguageModel, LMConfig
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqBatch, Seq2SeqConfig
from rnnkit.pipelines.seq2seq import collate, encode_pairs
from rnnkit.training.diagnostics import flow_table, gradient_flow
from rnnkit.training.task import StepOutput, TaskModel

WORDS = ["red", "blue", "green", "black", "white", "dog", "cat", "bird", "fish", "horse",
         "runs", "sits", "jumps", "swims"]
SOURCES = ["red dog runs", "cat sits"]
TARGETS = ["runs dog red green fish jumps white horse swims", "cat"]  # 1 word against 9
TEXT = "ROMEO:\nBut soft, what light through yonder window breaks?\n" * 4
DECODERS = [("general", True), ("general", False), ("none", False)]  # attention, feeding



@pytest.fixture(scope="module")
def tokenizer() -> SubwordTokenizer:
    return SubwordTokenizer.train(WORDS * 20, vocab_size=40)


def _translator(tokenizer: SubwordTokenizer, cell: str, attention: str, feeding: bool,
                **options: Any) -> Seq2Seq:
    torch.manual_seed(0)
    config = Seq2SeqConfig(embedding_dim=8, dropout=0.0, attention=attention,
                           input_feeding=feeding)
    rnn = ModelConfig(cell=cell, hidden_size=6, bidirectional=True, init="torch", **options)
    return Seq2Seq(tokenizer, tokenizer, config, rnn)


def _padded(batch: Seq2SeqBatch, extra: int) -> Seq2SeqBatch:
    """The batch with ``extra`` more padding columns after its targets."""
    return batch._replace(target=F.pad(batch.target, (0, extra), value=PAD_ID))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize(("attention", "feeding"), DECODERS)
def test_padded_target_steps_count_in_no_decoder_statistic(
        tokenizer: SubwordTokenizer, cell: str, attention: str, feeding: bool) -> None:
    """The decoder runs over the padded targets without lengths (one call over all steps, or
    one per step with input feeding), so the padded steps' gates counted in the gate means
    and saturated shares: on 16 Multi30k val sentences (55% of the decoder's steps padding) an
    LSTM's forget gate read 0.602 mean and 2.7% saturated where its real steps hold 0.577 and
    5.8%. The real steps are the gold tokens and the end marker, as step's loss counts them."""
    model = _translator(tokenizer, cell, attention, feeding)
    pairs = encode_pairs(model, SOURCES, TARGETS)
    short = collate(pairs[1:])
    alone = gradient_flow(model, short, layer="decoder.rnn")
    padded = gradient_flow(model, _padded(short, 6), layer="decoder.rnn")
    assert padded.norms[0][0] == pytest.approx(alone.norms[0][0], rel=1e-12)
    for gate, stats in alone.gates[0][0].items():
        assert padded.gates[0][0][gate] == pytest.approx(stats, rel=1e-12)
    # a batch of both: its gates are the real steps' of the two sentences, pooled
    both = gradient_flow(model, collate(pairs), layer="decoder.rnn")
    steps = [len(pair[1]) - 1 for pair in pairs]  # gold tokens and end marker
    each = [gradient_flow(model, collate([pair]), layer="decoder.rnn") for pair in pairs]
    for gate in alone.gates[0][0]:
        for statistic in ("mean", "saturated"):
            pooled = sum(n * flow.gates[0][0][gate][statistic]
                         for n, flow in zip(steps, each, strict=True)) / sum(steps)
            # the shares are float32 means of booleans (about 1e-7 apart)
            assert both.gates[0][0][gate][statistic] == pytest.approx(pooled, rel=1e-6)


def test_a_source_padded_further_reads_as_alone(tokenizer: SubwordTokenizer) -> None:
    """The encoder is given the source lengths: a source padded further reads the same."""
    model = _translator(tokenizer, "lstm", "general", True)
    short = collate(encode_pairs(model, SOURCES[1:], TARGETS[1:]))
    alone = gradient_flow(model, short)
    source = F.pad(short.source, (0, 4), value=PAD_ID)
    padded = gradient_flow(model, short._replace(source=source))
    for direction in (0, 1):
        assert padded.norms[0][direction] == pytest.approx(alone.norms[0][direction], rel=1e-12)
        for gate, stats in alone.gates[0][direction].items():
            assert padded.gates[0][direction][gate] == pytest.approx(stats, rel=1e-12)


def test_steps_after_the_longest_sequence_are_left_out(tokenizer: SubwordTokenizer) -> None:
    """A batch padded past its longest sequence (a fixed pad length) reported those steps as
    norm 0, read as "no path to the loss": the last step's norm was 0, so first/last and its
    log10 were n/a in the rows, the table and summary JSON (None), and the plot marked
    every such step "0: no gradient". The steps no sequence reaches are not steps."""
    model = _translator(tokenizer, "lstm", "general", True)
    short = collate(encode_pairs(model, SOURCES[1:], TARGETS[1:]))
    further = short._replace(source=F.pad(short.source, (0, 4), value=PAD_ID))
    further = _padded(further, 3)
    for layer in ("encoder", "decoder.rnn"):
        alone, padded = (gradient_flow(model, batch, layer=layer) for batch in (short, further))
        assert padded.length == alone.length == len(alone.norms[0][0])
        assert all(math.isfinite(row["orders"]) for row in padded.rows())
        assert [row["orders"] for row in padded.rows()] == pytest.approx(
            [row["orders"] for row in alone.rows()], rel=1e-9)


class _Declared(TaskModel):
    """A bidirectional LSTM run over a padded batch without lengths, whose model declares
    them (as the translation model does for its decoder); the loss reads the real steps."""

    def __init__(self, lengths: Any) -> None:
        super().__init__()
        self.encoder = rnnkit.LSTM(2, 3, bidirectional=True)
        self.lengths = lengths

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        out, _ = self.encoder(batch)  # [T, B, 2H]
        real = torch.arange(batch.shape[0])[:, None] < torch.tensor([5, 3])[None, :]  # [T, B]
        return StepOutput(loss=out.sin()[real].sum(), count=1)

    def layer_lengths(self, batch: Any, layer: str) -> Any:
        return self.lengths


def test_declared_lengths_leave_the_padding_out_of_both_directions() -> None:
    """Each direction's steps after a sequence's declared length count in no statistic, the
    backward direction's too (it ran the padded batch flipped, from the padding)."""
    torch.manual_seed(0)
    model = _Declared(torch.tensor([5, 3])).double()
    x = torch.randn(5, 2, 2, dtype=torch.float64)
    flow = gradient_flow(model, x)
    real = torch.tensor([[True, True]] * 3 + [[True, False]] * 2)  # [T, B]
    for direction in (0, 1):
        cell = model.encoder.cell(direction)
        assert isinstance(cell, LSTMCell)
        state = cell.initial_state(2, dtype=torch.float64)
        forget = torch.zeros(5, 2, 3, dtype=torch.float64)  # [T, B, H], input time order
        with torch.no_grad():
            for t in range(5) if direction == 0 else range(4, -1, -1):
                pre = (x[t] @ cell.weight_ih.T + cell.bias_ih + state[0] @ cell.weight_hh.T
                       + cell.bias_hh)
                forget[t] = torch.sigmoid(pre[:, 3:6])
                state = cell(x[t], state)
        expected = float(forget[real].mean())
        assert flow.gates[0][direction]["forget"]["mean"] == pytest.approx(expected, rel=1e-12)
        assert flow.norms[0][direction][3] > 0  # the long sequence's steps 3, 4 still count
    model.lengths = torch.tensor([5, 3, 1])
    with pytest.raises(ValueError, match=r"_Declared.layer_lengths\(batch, 'encoder'\) does not "
                                         "fit the 5 steps of 2 sequences"):
        gradient_flow(model, x)


def test_the_default_label_names_the_layer_measured(tokenizer: SubwordTokenizer) -> None:
    """The label defaulted to the cell class alone, so the encoder and decoder of a translation
    model, or the layers of a language model (each its own layer, all read as layer 0), had
    the same name in the table, the JSON and the plot's legend."""
    model = _translator(tokenizer, "lstm", "general", True)
    batch = collate(encode_pairs(model, SOURCES, TARGETS))
    flows = [gradient_flow(model, batch, layer=layer) for layer in ("encoder", "decoder.rnn")]
    assert [flow.name for flow in flows] == ["encoder (LSTMCell)", "decoder.rnn (LSTMCell)"]
    assert "| decoder.rnn (LSTMCell) | 0 | fwd |" in flow_table(flows)
    tokens = tokenize(TEXT, "char")
    vocab = build_stream_vocab(tokens, "char")
    torch.manual_seed(0)
    language = LanguageModel(vocab, LMConfig(embedding_dim=8),
                             ModelConfig(cell="gru", hidden_size=6, num_layers=2))
    stream = next(iter(StreamBatches(vocab.encode(tokens), 2, 10, shuffle=False).batches(0)))
    names = [gradient_flow(language, stream, layer=f"layers.{k}").name for k in (0, 1)]
    assert names == ["layers.0 (GRUCell)", "layers.1 (GRUCell)"]
    assert gradient_flow(language, stream, layer="layers.1", name="top").to_dict()["name"] == "top"
