"""Data-parallel training: sharded batches and streams, and the one-process Workers."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
import torch
from helpers import ListSource, Regressor, no_log, quiet, regression_source
from test_distributed import SYNTHETIC

from rnnkit.cli import main
from rnnkit.data.batching import BucketBatches, TensorBatches, shard_stream, stream_columns
from rnnkit.training.distributed import WorkerLost, Workers
from rnnkit.training.task import StepOutput, TaskModel
from rnnkit.training.trainer import Trainer

T = TypeVar("T")


# -- shards of batches and streams -------------------------------------------------------------
def test_tensor_shards_split_each_global_batch_of_one_process() -> None:
    tensors = (torch.arange(21), torch.arange(21) * 10)
    whole = TensorBatches(tensors, batch_size=8, seed=3)  # batches of 8, 8, 5
    shards = [whole.shard(rank, 3) for rank in range(3)]
    for epoch in (0, 1):
        batches = list(whole.batches(epoch))
        parts = [list(shard.batches(epoch)) for shard in shards]
        assert [len(p) for p in parts] == [3, 3, 3] == [len(s) for s in shards]
        for index, (x, y) in enumerate(batches):
            assert torch.equal(torch.cat([p[index][0] for p in parts]).sort().values,
                               x.sort().values), f"epoch {epoch} batch {index}"
            assert torch.equal(parts[1][index][0], x[1::3]) and torch.equal(
                parts[1][index][1], y[1::3])
    assert not torch.equal(next(whole.batches(0))[0], next(whole.batches(1))[0])  # reshuffled


def test_a_global_batch_smaller_than_the_process_count_is_left_out() -> None:
    whole = TensorBatches((torch.arange(17),), batch_size=8, shuffle=False)  # 8, 8, 1
    assert len(whole) == 3 and len(whole.shard(0, 2)) == 2
    assert [len(x) for x, in whole.shard(1, 2).batches(0)] == [4, 4]
    with pytest.raises(ValueError, match=r"batch size \(2\) is smaller than the number of"
                                         r" processes \(3\).*raise train.batch_size"):
        TensorBatches((torch.arange(9),), batch_size=2).shard(0, 3)
    with pytest.raises(ValueError, match="rank must be in 0..1, got rank 2"):
        whole.shard(2, 2)


def test_fewer_training_items_than_processes_are_refused_not_trained_on_by_none(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """One example on two processes: every epoch had no batch, 0 steps, train_loss 0, and the
    untrained model was saved as the run's."""
    for source in (TensorBatches((torch.arange(3),), batch_size=8),
                   BucketBatches([1, 2, 3], list, [1, 2, 3], batch_size=8)):
        with pytest.raises(ValueError, match=r"the training data has 3 item\(s\), fewer than"
                                             r" the 4 processes.*use --nproc 3 or fewer"):
            source.shard(0, 4)
        assert len(source.shard(0, 3)) == 1
    args = [*SYNTHETIC, "--set", "data.train_size=1", "--out", str(tmp_path / "run")]
    assert main([*args, "--nproc", "2"]) == 2
    err = capfd.readouterr().err
    assert "the training data has 1 item(s), fewer than the 2 processes that share every " \
        "batch, so none would train on anything; train in one process, or on more " \
        "training data" in err and "stopped on the error above; fix it" in err
    assert not (tmp_path / "run" / "model.rnnkit").exists()


def test_bucket_shards_keep_length_buckets() -> None:
    lengths = [3, 9, 4, 8, 3, 9, 4, 8, 5, 5, 6, 7, 2]
    items = list(range(len(lengths)))
    whole = BucketBatches(items, list, lengths, batch_size=4, seed=1)
    shards = [whole.shard(rank, 2) for rank in range(2)]
    batches = list(whole.batches(2))
    parts = [list(shard.batches(2)) for shard in shards]
    assert len(batches) == len(parts[0]) == len(parts[1]) == len(whole.shard(0, 2)) == 4
    for batch, first, second in zip(batches, *parts, strict=True):
        if len(batch) < 2:  # the batch of 1 is left out, its place kept
            assert first is second is None
            continue
        assert first == batch[0::2] and second == batch[1::2]
        spread = max(lengths[i] for i in batch) - min(lengths[i] for i in batch)
        assert max(lengths[i] for i in first) - min(lengths[i] for i in first) <= spread


def test_a_bucket_batch_too_small_to_share_keeps_its_place_in_the_epoch() -> None:
    """Unlike TensorBatches' last batch, the bucket remainder is shuffled anywhere: left out
    of a shard's batches, it moved every later batch's number, so a run resumed on another
    number of processes went on at the wrong batch."""
    lengths = [3, 9, 4, 8, 3, 9, 4, 8, 5]  # buckets of 4, 4 and 1
    whole = BucketBatches(list(range(9)), list, lengths, batch_size=4, seed=0)
    assert [len(batch) for batch in whole.batches(0)] == [1, 4, 4]  # the 1 comes first
    assert list(whole.shard(1, 2).batches(0)) == [None, *(b[1::2] for b in
                                                         list(whole.batches(0))[1:])]
    assert len(whole.shard(1, 2)) == len(whole) == 3


class Recorder(TaskModel):
    """Records the items of every batch it trains on (a batch: a list of item numbers)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))
        self.seen: list[list[int]] = []

    def step(self, batch: Any, state: Any = None) -> StepOutput:
        self.seen.append(list(batch))
        return StepOutput((self.weight ** 2).sum(), len(batch))


class RankZeroOfTwo(Workers):
    """Rank 0 of two processes, with the collectives of one (no process group)."""

    def __init__(self) -> None:
        super().__init__(rank=0, world_size=2)

    def sum(self, values: Sequence[float]) -> list[float]:
        return [2 * value for value in values]

    def on_main(self, function: Callable[[], T]) -> T:
        return function()

    def gather(self, value: Any) -> list[Any] | None:
        return [value, value]

    def wrap(self, model: TaskModel) -> Callable[[Any, Any], StepOutput]:
        return model.step


def test_resumed_on_two_processes_the_epoch_goes_on_at_its_next_bucket_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lengths = [3, 9, 4, 8, 3, 9, 4, 8, 5]  # epoch 0: the batch of 1 first, then 4 and 4
    source = BucketBatches(list(range(9)), list, lengths, batch_size=4, seed=0)
    batches = list(source.batches(0))
    one = Recorder()
    Trainer(one, quiet(max_steps=2), run_dir=tmp_path, log=no_log).fit(source)
    assert one.seen == batches[:2]  # stopped mid-epoch: the last batch is left
    monkeypatch.setattr("rnnkit.training.trainer.join", lambda device: RankZeroOfTwo())
    two = Recorder()
    trainer = Trainer(two, quiet(), run_dir=tmp_path, log=no_log)
    assert trainer.resume()
    trainer.fit(source)
    assert two.seen == [batches[2][0::2]]  # rank 0's share of the last batch (with the
    # batch of 1 left out, the last was numbered 2, taken for trained: none was)
    assert trainer.result.steps == 3 and trainer.batch_in_epoch == 0


class LostPeer(RankZeroOfTwo):
    """Rank 0 of two whose peer is gone: its collectives fail as gloo's do."""

    def on_main(self, function: Callable[[], T]) -> T:
        raise RuntimeError("[../third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection "
                           "closed by peer [127.0.0.1]:43211")


def test_a_peer_lost_before_training_is_a_clear_error_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rank 0 failing after rank 1 started to resume (its run folder unwritable, say): rank 1
    printed gloo's traceback from inside broadcast_object_list; fit() alone named it."""
    monkeypatch.setattr("rnnkit.training.trainer.join", lambda device: RankZeroOfTwo())
    trainer = Trainer(Recorder(), quiet(), run_dir=tmp_path, log=no_log)
    trainer.workers = LostPeer()  # lost after the processes compared their settings
    handler = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(WorkerLost, match="process 0 of 2 lost contact with the others.*"
                                             "Connection closed by peer"):
            trainer.resume()
    finally:
        signal.signal(signal.SIGTERM, handler)


def test_stream_shards_are_contiguous_and_the_columns_of_one_process() -> None:
    stream = torch.arange(103)
    columns = stream_columns(stream, 4)  # [25, 4]: column j = stream[25 j : 25 (j + 1)]
    assert columns.shape == (25, 4) and torch.equal(columns[:, 2], torch.arange(50, 75))
    parts = [shard_stream(stream, rank, 2, columns=4) for rank in range(2)]
    assert all(part.shape == (25, 2) for part in parts)
    assert torch.equal(torch.cat(parts, dim=1), columns)
    assert torch.equal(parts[1].T.reshape(-1), torch.arange(50, 100))  # one contiguous part
    features = torch.randn(40, 3)  # a stream of vectors: [N, F] -> [R, C, F]
    assert torch.equal(torch.cat([shard_stream(features, r, 2, 4) for r in range(2)], dim=1),
                       stream_columns(features, 4))
    with pytest.raises(ValueError, match="5 columns cannot be shared equally by 2 processes"):
        shard_stream(stream, 0, 2, columns=5)


# -- one process: every collective is the identity ---------------------------------------------
def test_one_process_workers_change_nothing() -> None:
    workers = Workers()
    model = Regressor()
    source = regression_source()
    assert workers.is_main and not workers.distributed
    assert workers.sum([1.5, 2.0]) == [1.5, 2.0]
    assert workers.on_main(lambda: "rank 0 decides") == "rank 0 decides"
    assert workers.gather({"x": 1}) == [{"x": 1}]
    assert workers.shard(source) is source
    assert workers.wrap(model) == model.step


def test_a_source_without_shard_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ListSource cannot be split among 2 processes.*"
                                         "shard\\(rank, world_size\\)"):
        Workers(rank=0, world_size=2).shard(ListSource([]))
