"""A stand-in for `spaces.GPU` that behaves like ZeroGPU where it matters to us: the decorated function runs
in a FORKED process, its arguments and result cross by pickle, and `duration` may be a function of the
arguments. Each call is recorded (name, seconds, worker pid) so tests can see what went to the "GPU"."""
from __future__ import annotations

import multiprocessing
import os
import pickle
from dataclasses import dataclass, field

FORK = multiprocessing.get_context("fork")


@dataclass
class StandInGPU:
    """Use `stand_in.GPU` where `spaces.GPU` would go; `calls` lists what ran in a worker."""

    timeout_s: float = 120.0
    calls: list[dict] = field(default_factory=list)

    def GPU(self, task=None, *, duration=None):  # noqa: N802 - the name spaces uses
        if task is None:
            return lambda fn: self._wrap(fn, duration)
        return self._wrap(task, duration)

    def _wrap(self, task, duration):
        def gpu_handler(*args, **kwargs):
            seconds = duration(*args, **kwargs) if callable(duration) else duration
            payload = pickle.dumps((args, kwargs))  # ZeroGPU pickles the arguments too
            receive, send = FORK.Pipe(duplex=False)
            worker = FORK.Process(target=_worker, args=(task, payload, send), daemon=True)
            worker.start()
            send.close()
            if not receive.poll(self.timeout_s):
                worker.kill()
                raise TimeoutError(f"GPU worker for {task.__name__} did not answer in {self.timeout_s} s "
                                   "(a deadlock in the forked process?)")
            pid, result = pickle.loads(receive.recv_bytes())
            worker.join(10)
            self.calls.append({"task": task.__name__, "seconds": seconds, "pid": pid})
            return result
        return gpu_handler


def _worker(task, payload, send) -> None:
    args, kwargs = pickle.loads(payload)
    send.send_bytes(pickle.dumps((os.getpid(), task(*args, **kwargs))))
    send.close()
