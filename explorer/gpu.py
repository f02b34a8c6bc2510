"""Where heavy work runs. On a Hugging Face ZeroGPU Space (SPACES_ZERO_GPU=true and the `spaces` package
importable) `run_heavy` hands a task to a GPU worker through `spaces.GPU`; elsewhere it simply calls the task,
on the service's own device (CUDA when present). Cheap calls (slider decoding, digit reconstructions) never
come here and stay on the CPU.

A ZeroGPU worker is a forked process that receives the call's arguments and returns its result by pickling.
So a task is a module-level function `task(service, *args, **kwargs)` with picklable arguments and result;
the worker finds the service in the registry it inherited at fork time, and runs the task with the service
switched to its accelerator (`ModelService.on_accelerator`). Exceptions come back with their own type and
message, so the UI shows the same error text as without a GPU.
"""
from __future__ import annotations

import itertools
import os
import pickle
import warnings
import weakref
from typing import Any, Callable, TypeVar

T = TypeVar("T")
ZERO_GPU_ENV = "SPACES_ZERO_GPU"
DEFAULT_SECONDS = 60

# key -> ModelService; a forked worker inherits it
_services: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()
_keys = itertools.count(1)
_zero_gpu_entry: Callable | None = None  # _run_registered wrapped by spaces.GPU, when on ZeroGPU


def zero_gpu_requested() -> bool:
    """True on a ZeroGPU Space (same test as the `spaces` package: SPACES_ZERO_GPU is 1, t or true)."""
    return os.environ.get(ZERO_GPU_ENV, "").strip().lower() in ("1", "t", "true")


def zero_gpu_active() -> bool:
    """True when heavy work is being sent to ZeroGPU workers."""
    return _zero_gpu_entry is not None


def register(service: Any) -> int:
    """Give `service` a key that a forked GPU worker can use to find it."""
    key = next(_keys)
    _services[key] = service
    return key


def install(gpu_decorator: Callable) -> None:
    """Send heavy work through `gpu_decorator` (spaces.GPU, or a stand-in in tests)."""
    global _zero_gpu_entry
    _zero_gpu_entry = gpu_decorator(duration=_seconds_of)(_run_registered)


def uninstall() -> None:
    global _zero_gpu_entry
    _zero_gpu_entry = None


def run_heavy(service: Any, task: Callable[..., T], *args: Any, seconds: int = DEFAULT_SECONDS, **kwargs: Any) -> T:
    """task(service, *args, **kwargs) on the service's accelerator: in a ZeroGPU worker holding a GPU for at
    most `seconds` when on ZeroGPU, else right here. Heavy work nested in heavy work runs where it is."""
    if _zero_gpu_entry is None or service.accelerated:  # no ZeroGPU, or already inside a GPU worker
        with service.on_accelerator():  # a no-op for a service without an accelerator
            return task(service, *args, **kwargs)
    outcome, value = _zero_gpu_entry(service.gpu_key, task, int(seconds), args, kwargs)
    if outcome == "error":
        raise value
    return value


def _seconds_of(key: int, task: Callable, seconds: int, args: tuple, kwargs: dict) -> int:
    """spaces.GPU's dynamic duration: the budget the caller asked for."""
    return seconds


def _run_registered(key: int, task: Callable, seconds: int, args: tuple, kwargs: dict) -> tuple[str, Any]:
    """Runs inside the GPU worker: the task on the registered service's accelerator. An exception is
    returned, not raised, so that its type and message survive the trip back (spaces would replace them
    with a generic "ZeroGPU worker error")."""
    service = _services[key]
    try:
        with service.on_accelerator():
            return "ok", task(service, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - handed back to the caller, who re-raises it
        return "error", _picklable(exc)


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _install_spaces_if_on_zero_gpu() -> None:
    """At import, before any CUDA work (ZeroGPU needs `spaces` imported first and one decorated function
    at start-up)."""
    if not zero_gpu_requested():
        return
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        warnings.warn(f"{ZERO_GPU_ENV} is set but the `spaces` package is missing; running on the CPU", stacklevel=2)
        return
    install(spaces.GPU)


_install_spaces_if_on_zero_gpu()
