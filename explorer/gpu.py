"""GPU placement for Hugging Face ZeroGPU Spaces. `gpu_task(duration)` wraps heavy work (sampling, big
photos) in `spaces.GPU` when the `spaces` package is importable and we run on ZeroGPU; elsewhere it returns
the function unchanged. Cheap calls (slider decoding) stay on the CPU and never claim a GPU."""
from __future__ import annotations

import os
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)


def on_zero_gpu() -> bool:
    return bool(os.environ.get("SPACES_ZERO_GPU"))


def gpu_task(duration: int = 60) -> Callable[[F], F]:
    """Decorator: run the function on a ZeroGPU worker for at most `duration` seconds, if there is one."""
    if not on_zero_gpu():
        return lambda fn: fn
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        return lambda fn: fn
    return spaces.GPU(duration=duration)
