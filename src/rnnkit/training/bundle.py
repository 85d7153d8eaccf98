"""Model bundles: one file per trained model, safe to open from an untrusted source.

A bundle is a `safetensors <https://github.com/huggingface/safetensors>`_ file: the weights as
tensors, and in its header (JSON strings) the model kind, its full configuration (vocabularies
and scalers included), the rnnkit version and a SHA-256 of the tensor bytes (a file damaged
on disk after it was written is refused, not run with wrong weights). A tensor the model holds
under two names (a decoder tied to the embedding) is stored once, the header naming the other.
Nothing in it is ever unpickled or executed, so a file crafted to run code on load is refused
like any other foreign file.

Every task model registers its kind with :func:`register_model` and implements
``bundle_config()`` / ``from_bundle_config(config)``, so :func:`load_bundle` rebuilds it with no
other input.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from rnnkit.training.bundle_checks import (
    TooLarge,
    check_weights,
    non_finite,
    probe_state,
    size_guard,
)
from rnnkit.training.bundle_header import header_metadata, metadata_sorted
from rnnkit.training.checkpoint import atomic_write_bytes
from rnnkit.training.task import TaskModel
from rnnkit.training.temperature import BUNDLE_KEY as TEMPERATURE

FORMAT = "rnnkit-bundle"
FORMAT_VERSION = "1"
# a bundle with tied weights stored once: format 2, so that an rnnkit reading format 1 only
# says so (it would miss the second name's tensor and call the file incomplete)
SHARED_FORMAT_VERSION = "2"
# a bundle whose model divides its logits by a fitted temperature (its config's TEMPERATURE,
# training/temperature.py): format 3, so that an rnnkit before it says so rather than give the
# logits' probabilities without T; a bundle without one keeps format 1 or 2
TEMPERATURE_FORMAT_VERSION = "3"
READ_VERSIONS = (FORMAT_VERSION, SHARED_FORMAT_VERSION, TEMPERATURE_FORMAT_VERSION)
CHECKSUM = "weights_sha256"  # of the bytes after the header; bundles written before it lack it
DAMAGED = "copy it again from where it came from, or retrain the model"
SHARED = "shared_weights"  # {name: name stored}: tied weights, stored once (older bundles: twice)
MODEL_KINDS: dict[str, type[TaskModel]] = {}
ModelT = TypeVar("ModelT", bound=type[TaskModel])
TaskT = TypeVar("TaskT", bound=TaskModel)


class BundleError(ValueError):
    """A file that is not a usable rnnkit bundle, with the file and what is wrong."""


def register_model(kind: str) -> Callable[[ModelT], ModelT]:
    """Class decorator: make a task model loadable from bundles under ``kind``."""

    def decorate(cls: ModelT) -> ModelT:
        cls.kind = kind
        MODEL_KINDS[kind] = cls
        return cls

    return decorate


def save_bundle(model: TaskModel, path: str | Path) -> Path:
    """Write ``model`` (weights + configuration + version) to one file, atomically."""
    from rnnkit import __version__

    kind = getattr(model, "kind", None)
    if kind not in MODEL_KINDS:
        raise BundleError(f"cannot bundle {type(model).__name__}: it is not a registered model")
    state = model.state_dict()
    shared = shared_names(state)
    tensors = {
        name: tensor.detach().to("cpu").contiguous().clone()
        for name, tensor in state.items() if name not in shared
    }
    config = model.bundle_config()
    metadata = {
        "format": FORMAT,
        "format_version": TEMPERATURE_FORMAT_VERSION if TEMPERATURE in config
        else SHARED_FORMAT_VERSION if shared else FORMAT_VERSION,
        "rnnkit_version": __version__,
        "kind": kind,
        "config": json.dumps(config),
        **({SHARED: json.dumps(shared)} if shared else {}),
    }
    metadata[CHECKSUM] = _weights_digest(save_tensors(tensors))  # the same bytes, any header
    data = metadata_sorted(save_tensors(tensors, metadata=metadata))
    return atomic_write_bytes(path, lambda file: file.write(data))


def shared_names(state: dict[str, torch.Tensor]) -> dict[str, str]:
    """``{name: the first name of the same tensor}`` for the state's entries that are another's
    tensor again: a tied decoder is the embedding's matrix, stored once (it was stored twice).

    Example:
        >>> weight = torch.zeros(3, 2)
        >>> shared_names({"embedding.weight": weight, "decoder.weight": weight})
        {'decoder.weight': 'embedding.weight'}
    """
    first: dict[tuple[Any, ...], str] = {}
    shared = {}
    for name, tensor in state.items():
        if tensor.numel() == 0:
            continue  # an empty tensor has no memory to share
        key = (tensor.device, tensor.untyped_storage().data_ptr(), tensor.storage_offset(),
               tuple(tensor.shape), tensor.stride(), tensor.dtype)
        if key in first:
            shared[name] = first[key]
        else:
            first[key] = name
    return shared


def _with_shared(path: Path, metadata: dict[str, str], tensors: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
    """The tensors with the tied ones the header names stored once given under each name."""
    if SHARED not in metadata:
        return tensors
    try:
        shared = json.loads(metadata[SHARED])
        if not isinstance(shared, dict) or not all(
                isinstance(name, str) and isinstance(source, str) for name, source
                in shared.items()):
            raise ValueError("not a map of names")
    except (ValueError, RecursionError) as error:
        raise BundleError(f"{path}: its header's {SHARED} ({metadata[SHARED][:80]!r}) is not a "
                          f"map of tensor names ({error}); the file is damaged: {DAMAGED}"
                          ) from None
    for name, source in shared.items():
        wrong = (f"lacks {source}" if source not in tensors
                 else f"holds {name} too" if name in tensors else "")
        if wrong:
            raise BundleError(f"{path}: its header says that {name} is the tensor {source}, "
                              f"but the file {wrong}; the file is damaged: {DAMAGED}")
    return {**tensors, **{name: tensors[source] for name, source in shared.items()}}


def _check_exists(path: Path) -> None:
    """Refuse a bundle path that is no file, pointing into a run folder given instead."""
    if path.is_dir():
        inside = path / "model.rnnkit"
        hint = f"; its bundle is {inside}" if inside.is_file() else ""
        raise BundleError(f"{path} is a folder, not a model bundle{hint}")
    if not path.is_file():
        raise BundleError(f"model bundle {path} does not exist")


def read_bundle(path: str | Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The header metadata and tensors of a bundle, checked; raises :class:`BundleError`.
    A tensor stored once for several names (tied weights) is given under each of them."""
    path = Path(path)
    _check_exists(path)
    raw = path.read_bytes()
    try:
        tensors = load_tensors(raw)
        metadata = header_metadata(raw)
    except (SafetensorError, ValueError, UnicodeDecodeError) as error:
        raise _not_a_bundle(path, error) from None
    _check_header(path, metadata)
    if CHECKSUM in metadata and _weights_digest(raw) != metadata[CHECKSUM]:
        raise BundleError(f"{path}: its weights do not match the checksum in its header: the "
                          f"file was damaged or changed after rnnkit wrote it; {DAMAGED}")
    return metadata, _with_shared(path, metadata, tensors)


def _weights_digest(data: bytes) -> str:
    """SHA-256 of a safetensors file's tensor bytes (all that follows the header)."""
    size = int.from_bytes(data[:8], "little")
    return hashlib.sha256(data[8 + size :]).hexdigest()


def read_header(path: str | Path) -> dict[str, str]:
    """A bundle's header metadata (kind, config, version), checked, without its tensors."""
    path = Path(path)
    _check_exists(path)
    try:
        with open(path, "rb") as file:
            size = int.from_bytes(file.read(8), "little")
            if size > 100 * 2**20 or size > path.stat().st_size:
                raise ValueError("invalid header length")
            metadata = header_metadata(size.to_bytes(8, "little") + file.read(size))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # (too deeply nested)
        raise _not_a_bundle(path, error) from None
    _check_header(path, metadata)
    return metadata


def _not_a_bundle(path: Path, error: Exception) -> BundleError:
    with open(path, "rb") as file:
        zipped = file.read(4) == b"PK\x03\x04"  # torch.save's format: last.pt, best.pt
    if zipped:
        return BundleError(f"{path} is not an rnnkit bundle but a zip file, as torch.save "
                           "writes (a run's last.pt or best.pt checkpoint?): give the run's "
                           "model.rnnkit (rnnkit never unpickles files)")
    return BundleError(
        f"{path} is not an rnnkit bundle: not a safetensors file ({error}); it may be"
        " truncated, corrupt, or another kind of file (rnnkit never unpickles files)"
    )


def _check_header(path: Path, metadata: dict[str, str]) -> None:
    if metadata.get("format") != FORMAT:
        raise BundleError(
            f"{path} is a safetensors file but not an rnnkit bundle (no rnnkit header)"
        )
    if metadata.get("format_version") not in READ_VERSIONS:
        raise BundleError(
            f"{path} has bundle format {metadata.get('format_version')!r}; this rnnkit reads"
            f" formats {', '.join(READ_VERSIONS[:-1])} and {READ_VERSIONS[-1]}"
            f"{newer_hint(metadata)}"
        )


def _release(version: str) -> tuple[int, ...]:
    """The release numbers of a version (``0.10.2rc1``: ``(0, 10, 2)``; none: ``()``)."""
    match = re.match(r"\d+(\.\d+)*", version.strip())
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def newer_hint(metadata: dict[str, str]) -> str:
    """``; it was written by rnnkit 0.2.0, newer than this one (0.1.0): upgrade ...`` for a
    bundle a newer rnnkit wrote (what it holds this one may not know), else ""."""
    from rnnkit import __version__

    written = metadata.get("rnnkit_version", "")
    if _release(written) <= _release(__version__):
        return ""
    return (f"; it was written by rnnkit {written}, newer than this one ({__version__}): "
            "upgrade rnnkit to load it")


def load_bundle(path: str | Path, expected_kind: str | None = None) -> TaskModel:
    """Rebuild the model stored in a bundle; it comes back in eval mode on the CPU.

    Args:
        path: the bundle file.
        expected_kind: refuse a bundle of another kind (e.g. a tagger where a classifier was
            asked for) with a clear error.
    """
    import rnnkit.models

    metadata, tensors = read_bundle(path)
    kind = metadata.get("kind", "")
    if expected_kind is not None and kind != expected_kind:
        raise BundleError(f"{path} holds a {kind!r} model, but a {expected_kind!r} model is needed")
    rnnkit.models.register_kind(kind)  # its model's module alone (not pandas for a tagger)
    if kind not in MODEL_KINDS:
        known = sorted(set(MODEL_KINDS) | set(rnnkit.models.KIND_MODULES))
        raise BundleError(
            f"{path} holds a model of unknown kind {kind!r}; known kinds:"
            f" {', '.join(known)}{newer_hint(metadata)}"
        )
    try:
        config: dict[str, Any] = json.loads(metadata.get("config", ""))
        if not isinstance(config, dict):
            raise ValueError(f"its configuration is a JSON {type(config).__name__}, not an "
                             "object of settings")
        MODEL_KINDS[kind].check_bundle_config(config)  # as a run checks them, before any build
        build = partial(MODEL_KINDS[kind].from_bundle_config, config)
        expected = probe_state(build, tensors)  # sizes checked before memory is taken
        wrong = (check_weights(expected, tensors) if expected is not None else ""
                 ) or non_finite(tensors)
        if wrong:
            raise ValueError(wrong)
        with size_guard(tensors):
            model = build()
        model.load_state_dict(tensors)
    except KeyError as error:  # a setting of another kind (a relabelled bundle) or cut out
        raise BundleError(f"{path}: the {kind!r} model cannot be rebuilt: its configuration "
                          f"lacks {error}{newer_hint(metadata)}") from None
    except (ValueError, LookupError, TypeError, AttributeError, ArithmeticError, RuntimeError,
            TooLarge) as error:  # a setting of the wrong type: a list of ints for tag names;
        # a ConfigError (a ValueError) of check_bundle_config names the setting
        raise BundleError(f"{path}: the {kind!r} model cannot be rebuilt: {error}"
                          f"{newer_hint(metadata)}") from None
    model.bundle_metadata = dict(metadata)
    return model.eval()


def load_model(path: str | Path, model_type: type[TaskT]) -> TaskT:
    """:func:`load_bundle` for one registered model class: a bundle of another kind is a
    :class:`BundleError`; the model comes back typed as that class."""
    model = load_bundle(path, expected_kind=model_type.kind)
    assert isinstance(model, model_type)
    return model
