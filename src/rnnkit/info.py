"""What ``rnnkit info`` prints: versions, the device, and which fused kernels can run."""

from __future__ import annotations

import os
import platform

import numpy as np
import torch

from rnnkit.layers.fused import cpu_fused_kernels, cudnn_float32_math, fused_available


def cpu_model() -> str:
    """The CPU's model name (Linux), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def collect_info() -> dict[str, str]:
    """Ordered facts about this installation."""
    from rnnkit import __version__

    backends = fused_available()
    info = {
        "rnnkit": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": f"{cpu_model()} ({os.cpu_count()} cores, torch threads {torch.get_num_threads()})",
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available",
        "default device": "cuda" if torch.cuda.is_available() else "cpu",
    }
    for name, ok in backends.items():
        info[f"fused {name}"] = "available" if ok else "not available"
    if backends.get("oneDNN (CPU)") and not torch.backends.mkldnn.enabled:
        info["fused oneDNN (CPU)"] = "available, turned off (torch.backends.mkldnn.enabled)"
    info["cuDNN float32 math"] = (cudnn_float32_math() if backends.get("cuDNN (GPU)")
                                  else "not used (no GPU)")
    info["fused path"] = (
        "RNN/LSTM/GRU layers with plain cells and no recurrent_dropout run PyTorch's fused"
        " kernel, as torch.nn does (cuDNN on a GPU); layer_norm, recurrent_dropout and custom"
        " cells run rnnkit's time loop"
    )
    info["fused path on the CPU"] = cpu_fused_kernels()
    return info
