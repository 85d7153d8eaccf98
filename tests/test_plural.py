"""Counts in messages: '1 row', never '1 rows' (they said '(1 rows)', '1 fields where ...')."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.data.text_stream import batchify
from rnnkit.plural import plural
from rnnkit.timeseries.metrics import naive_scale
from rnnkit.timeseries.splits import walk_forward
from rnnkit.timeseries.windows import make_windows


def test_plural_says_one_of_a_thing() -> None:
    assert [plural(n, "row") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
    assert plural(1, "class", "classes") == "1 class" and plural(3, "class", "classes") == \
        "3 classes"


def test_messages_of_one_say_it_in_the_singular() -> None:
    frame = pd.DataFrame({"y": [1.0]}, index=pd.date_range("2020-01-01", periods=1,
                                                            name="date"))
    with pytest.raises(ValueError, match="^1 row is too few for lookback 2 "):
        make_windows(frame, "y", lookback=2, horizon=1)  # was '1 rows are too few'
    with pytest.raises(ValueError, match="^1 window leaves no test windows after initial=1;"):
        walk_forward(1, initial=1, step=1)
    with pytest.raises(ValueError, match="^a text of 1 token is too short for 1 column of "):
        batchify([3], 1)
    with pytest.raises(ValueError, match="no change over 1 step "):
        naive_scale(np.ones(5), 1)
