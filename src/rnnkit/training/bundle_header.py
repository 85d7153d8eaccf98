"""The JSON header of a bundle's safetensors file, read and written byte for byte: its
metadata read without the tensors, and written in key order so that one model always gives
the same file.
"""

from __future__ import annotations

import json


def header_metadata(raw: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file that starts with ``raw`` (its 8-byte header
    size and the header); raises ValueError where it is no map of strings."""
    if len(raw) < 8:
        raise ValueError("file shorter than a safetensors header")
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size].decode("utf-8"))
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else {}
    if not isinstance(metadata, dict):  # as safetensors itself refuses it
        raise ValueError(f"its __metadata__ is a {type(metadata).__name__}, not a map of strings")
    return {str(k): str(v) for k, v in metadata.items()}


def metadata_sorted(data: bytes) -> bytes:
    """``data`` (a safetensors file's bytes) with its header's metadata in key order.

    safetensors keeps the metadata in a Rust hash map, whose order changes from process to
    process, so the same model gave files of other bytes (and hashes). The keys and values
    stay the same, so the header keeps its length; where it would not (JSON that safetensors
    wrote otherwise than ``json.dumps`` does), ``data`` is returned as it is.

    Example:
        >>> import torch
        >>> from safetensors.torch import save
        >>> data = metadata_sorted(save({"w": torch.zeros(1)}, metadata={"b": "1", "a": "2"}))
        >>> data[8:46]
        b'{"__metadata__":{"a":"2","b":"1"},"w":'
    """
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size].decode("utf-8"))
    header["__metadata__"] = dict(sorted(header.get("__metadata__", {}).items()))
    ordered = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(ordered) > size or json.loads(ordered) != header:
        return data
    return data[:8] + ordered.ljust(size, b" ") + data[8 + size :]  # safetensors pads so
