"""Which compute device an embedding model may run on, checked when the project opens.

``embedding.device`` names a PyTorch device: ``cpu``, ``cuda``, ``cuda:<n>`` or ``mps``. A
device this machine's PyTorch cannot use fails before any work, saying why and what to write
instead, rather than at the first sync with an error about the model folder. PyTorch is only
imported for a device other than ``cpu``.
"""

from __future__ import annotations

import re

__all__ = ["device_problem"]

_CUDA = re.compile(r"^cuda(?::(\d+))?$")


def device_problem(device: str) -> str | None:
    """None when ``device`` can be used here; else what is wrong and the fix."""
    if device == "cpu":
        return None
    cuda = _CUDA.match(device)
    if cuda is None and device != "mps":
        return f"device {device!r} is not a PyTorch device; use cpu, cuda, cuda:<n> or mps"
    import torch

    if cuda is not None:
        if torch.version.cuda is None:
            return (
                f"device {device!r} requested but this PyTorch ({torch.__version__}) has no "
                "CUDA; use cpu (or install a CUDA build of torch)"
            )
        if not torch.cuda.is_available():
            return (
                f"device {device!r} requested but no CUDA device is usable here (no GPU, or "
                "no driver); use cpu"
            )
        count = torch.cuda.device_count()
        number = int(cuda.group(1) or 0)
        if number >= count:
            return (
                f"device {device!r} requested but this machine has {count} CUDA device(s); "
                f"use cuda:0 … cuda:{count - 1}"
            )
        return None
    if not torch.backends.mps.is_available():
        return "device 'mps' requested but Apple's Metal (MPS) is not available here; use cpu"
    return None
