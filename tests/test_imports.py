"""What a command imports: a text model's predict loads neither pandas nor the time series."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from rnnkit.config import ModelConfig
from rnnkit.data.vocab import Vocab
from rnnkit.models.tagger import Tagger, TaggerConfig
from rnnkit.training.bundle import save_bundle

HEAVY = ("pandas", "rnnkit.timeseries.labels", "rnnkit.models.forecaster")


def _loaded_after(code: str) -> list[str]:
    """The modules of HEAVY that a fresh interpreter holds after running ``code``."""
    check = (f"{code}\nimport json, sys\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    found = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                           check=True)
    return list(json.loads(found.stdout.strip().splitlines()[-1]))


def test_a_tagger_s_predict_imports_no_pandas(tmp_path: Path) -> None:
    """Every command imported pandas at start (the parser's backtest module, and load_bundle
    every model kind's module): about 0.3 s of CPU for a tagger, a classifier, a translator
    or a language model, which read no time series."""
    torch.manual_seed(0)
    model = Tagger(Vocab(["the", "dog"]), Vocab(list("thedog")),
                   Vocab(["<pad>", "DET", "NOUN"], unknown=False),
                   TaggerConfig(word_dim=4, char_dim=2, char_hidden=2),
                   ModelConfig(hidden_size=4, bidirectional=True))
    path = save_bundle(model, tmp_path / "t.rnnkit")
    code = ("from rnnkit.cli import main; "
            f"assert main(['predict', '--model', {str(path)!r}, '--text', 'the dog']) == 0")
    assert _loaded_after(code) == []


def test_the_scoring_modules_of_a_text_classifier_import_no_pandas() -> None:
    assert _loaded_after("import rnnkit.models, rnnkit.timeseries.metrics, "
                         "rnnkit.timeseries.scaling, rnnkit.pipelines.classifier_scoring") == []


def test_the_packages_still_give_every_name_they_list() -> None:
    """rnnkit.models and rnnkit.timeseries import their modules when a name is first used."""
    import rnnkit.models
    import rnnkit.timeseries
    from rnnkit.timeseries import mae

    assert mae([1.0], [2.0]) == 1.0
    for package in (rnnkit.models, rnnkit.timeseries):
        assert all(getattr(package, name) is not None for name in package.__all__)


def test_the_lazy_packages_list_their_names_and_register_every_kind() -> None:
    """Their names are kept in a table beside __all__: the two agree, dir() lists them before
    they are loaded, and every bundle kind's module registers that kind."""
    import rnnkit.models
    import rnnkit.timeseries
    from rnnkit.training.bundle import MODEL_KINDS

    for package, table in ((rnnkit.models, rnnkit.models.CLASS_MODULES),
                           (rnnkit.timeseries, rnnkit.timeseries.NAMES)):
        assert sorted(package.__all__) == sorted(table)
        assert set(table) <= set(dir(package))
    for kind in rnnkit.models.KIND_MODULES:
        rnnkit.models.register_kind(kind)
        assert kind in MODEL_KINDS, kind
