"""Imports go down the layers of the architecture guide: nothing reaches back up the flow.

Each module of ``src/rnnkit`` takes the layer of the longest key of ``LAYERS`` it starts with (a
package, a top-level module, or one module where a folder holds two layers). A module may import
from its own key and from any lower layer; keys of equal layer are independent of each other.
The files are parsed, not imported, so imports inside functions count as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "rnnkit"

# Lowest first: step functions -> cells -> layers -> config -> readers -> models -> trainer ->
# plots -> pipelines -> commands -> CLI -> Python front door.
LAYERS = {
    "functional": 0,
    "plural": 0,  # a count with its noun for messages: imports nothing of rnnkit
    "lazy": 0,  # PEP 562 lazy names for the packages above; imports nothing of rnnkit
    "cells": 1,
    "layers": 2,
    "__init__": 3,  # the package itself: re-exports cells and layers, holds __version__
    "training.checkpoint": 3,  # atomic writes and RNG states: imports nothing of rnnkit
    "training.bundle_checks": 3,  # a bundle's weights against its model: imports nothing of rnnkit
    "training.bundle_header": 3,  # a bundle's header bytes: imports nothing of rnnkit
    "config": 4,  # checks model.cell/init/kernel against cells and layers
    "data": 5,
    "embeddings": 6,
    "timeseries": 6,
    "trading": 7,
    # the model contract lives in training/ but sits below the models that subclass TaskModel,
    # register with the bundle and score themselves with these metrics
    "training.task": 8,
    "training.classification_metrics": 8,
    "training.tag_metrics": 8,
    "training.translation_metrics": 8,
    "training.temperature": 8,  # temperature scaling of logits: imports nothing of rnnkit
    "training.bundle": 9,
    "models": 10,
    "training": 11,  # the trainer, its monitor, distributed runs, gradient diagnostics
    "rl": 11,  # the trading environment and the DQN trainer of models.dqn_agent
    "viz": 12,
    "info": 14,
    "pipelines": 14,
    "commands": 15,
    "cli": 16,
    # rnnkit.train/load/predict: builds the CLI's arguments and runs its parser, checks and
    # handlers, so it sits above the command line (rnnkit/__init__ names it only as a string)
    "api": 17,
    "__main__": 17,
    # rnnkit.forecast (api_series), rnnkit.generate and rnnkit.translate (api_text): the
    # front door's other kinds, using api's refusal of a model of another kind
    "api_series": 18,
    "api_text": 18,
}

# Back-edges kept on purpose, (importing file, imported module), each with why:
EXCEPTIONS = {
    # load_bundle imports every model so that their kinds are registered (a registry the layer
    # above fills: moving bundle.py up would put it above the models that call register_model)
    ("training/bundle.py", "rnnkit.models"),
    # under `if TYPE_CHECKING:` only, never run: mypy sees the types of rnnkit.train... (at run
    # time rnnkit/__init__ names the front door as strings, loaded on first use)
    ("__init__.py", "rnnkit.api"),
    ("__init__.py", "rnnkit.api_series"),
    ("__init__.py", "rnnkit.api_text"),
}


def layer_key(module: str) -> str:
    """The key of ``LAYERS`` that ``rnnkit.a.b`` falls under (``__init__`` for ``rnnkit``)."""
    parts = module.split(".")[1:]
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in LAYERS:
            return ".".join(parts[:end])
    return "__init__"  # rnnkit itself, or a name imported from it (from rnnkit import __version__)


def rnnkit_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of rnnkit in ``path``, at any depth."""
    package = ["rnnkit", *path.relative_to(SRC).parent.parts]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] if node.level else [])
            module = ".".join(name for name in (base, node.module) if name)
            if module == "rnnkit":  # from rnnkit import cells, __version__
                found += [(node.lineno, f"rnnkit.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
    return [(line, module) for line, module in found if module.split(".")[0] == "rnnkit"]


def test_every_package_and_module_has_a_layer() -> None:
    tops = {path.stem for path in SRC.iterdir()
            if path.suffix == ".py" or (path / "__init__.py").exists()}
    assert tops <= set(LAYERS), f"add {sorted(tops - set(LAYERS))} to LAYERS in {__file__}"


def test_imports_go_down_the_layers() -> None:
    errors = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        source = layer_key("rnnkit." + relative.removesuffix(".py").replace("/", "."))
        for line, module in rnnkit_imports(path):
            target = layer_key(module)
            if target == source or LAYERS[target] < LAYERS[source]:
                continue
            if (relative, module) not in EXCEPTIONS:
                errors.append(
                    f"src/rnnkit/{relative}:{line} imports {module}: {source} (layer "
                    f"{LAYERS[source]}) may import only from layers below it, and {target} is "
                    f"layer {LAYERS[target]}; move the code down or pass the value in")
    assert not errors, "imports must go down the layers of tests/test_layering.py:\n" + "\n".join(
        errors)


def test_the_exceptions_are_still_needed() -> None:
    present = {(path.relative_to(SRC).as_posix(), module)
               for path in SRC.rglob("*.py") for _, module in rnnkit_imports(path)}
    assert set(EXCEPTIONS) <= present, f"remove {set(EXCEPTIONS) - present} from EXCEPTIONS"
