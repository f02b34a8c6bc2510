"""RemoteModelService: the app's model service when the models run in another process (`python -m
explorer.serve`, a Ray Serve deployment), with the public surface of `explorer.service.ModelService` that the
tabs and pure modules use, so no tab changes. `python app.py --model-server URL` builds the app over it.

What goes over the wire (HTTP POST, body and answer in the format of `pack`/`unpack` below):
- the catalogue (config.json, metrics.json, VAE shapes, where the models run) once, at start-up (`/catalogue`);
  names/config/metrics/vae_shapes/describe are then answered from that copy, by the same `Catalogue` code;
- `encode` and `decode` (`/encode`, `/decode`; decode is batched across concurrent callers on the service);
- heavy work that `ModelService.heavy` would run: a photo's encode/decode round trip
  (`reconstruction._encode_decode` -> `/reconstruct`) and a sampling run (`generation._generate_with_threads`
  -> `/generate`); the service runs the same function on its own ModelService, so answers are the same arrays
  as in-process (tests/test_serve.py checks them pixel for pixel). Other heavy tasks run here, their model
  calls going over the wire one by one.
- `get`/`run` (code that runs a module itself, e.g. the latent map's digit classifier on interpolation frames):
  the weights are fetched ONCE from `/weights/<name>` (safetensors, never pickles) and run here on the CPU. This
  is chosen over a remote route per such use because these modules are small (the classifier: 0.1 M params)
  and a generic `run(name, fn)` cannot ship its Python closure; the heavy one (the denoiser's sampling loop)
  goes to the service whole through `/generate` instead.

Failures are `Refusal`s worded in the page's language (codes `serve.*` below, Chinese in
explorer/locale_zh.py): the service unreachable (stopped, restarting), a timeout (connect CONNECT_TIMEOUT s,
answer `timeout` s), a refused token, a request over the service's size cap. Nothing waits forever; the next
call after the service is back simply works (each call opens or reuses a connection; nothing is cached
except the catalogue and fetched weights). A cancelled sampling run (`should_stop`) is checked before the call
and after its answer: the service finishes a run it started.

Wire format (`pack`/`unpack`): an uncompressed .npz (numpy.savez; read with allow_pickle=False) whose arrays
are the call's arrays and whose entry "__meta__" holds the call's other values as UTF-8 JSON. A refusal comes
back as HTTP 422 with {"refusal": message as JSON} (see `message_to_json`), so the page words it exactly as an
in-process refusal; a broken checkpoint as 500 {"checkpoint_error": text}; a bad token 401; too large 413.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import threading
import time
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np

from .catalogue import Catalogue
from .checkpoint import CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, CheckpointError
from .messages import Joined, Message, Refusal, define

T = TypeVar("T")
SERVER_ENV = "EXPLORER_MODEL_SERVER"
TOKEN_ENV = "EXPLORER_MODEL_SERVER_TOKEN"
TIMEOUT_ENV = "EXPLORER_MODEL_SERVER_TIMEOUT"
TOKEN_HEADER = "X-Explorer-Token"
META = "__meta__"
CONNECT_TIMEOUT = 5.0  # seconds to open a connection: a stopped service answers "refused" at once
DEFAULT_TIMEOUT = 120.0  # seconds to wait for an answer (a 1000-step sampling run on a CPU takes ~30 s)
START_WAIT = 60.0  # seconds the app waits at start-up for the service's catalogue

define({
    "serve.unreachable": "the model service at {url} cannot be reached ({reason}); it may be stopped or "
                         "restarting. Try again in a moment.",
    "serve.timeout": "the model service at {url} did not answer within {seconds} s; try again in a moment",
    "serve.unauthorised": "the model service at {url} refused this app (HTTP 401): its token is missing or "
                          "wrong; set EXPLORER_MODEL_SERVER_TOKEN to the service's --token",
    "serve.too_large": "this request ({size} MB) is larger than the model service accepts ({limit} MB)",
    "serve.failed": "the model service at {url} failed: {detail}",
    "serve.no_external": "extra VAEs are added to the model service (python -m explorer.serve --vae ...), not to a "
                         "frontend that uses it",
})


# ---- wire format --------------------------------------------------------------------------------------------
def pack(meta: dict | None = None, arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """meta (JSON-ready) and named numpy arrays -> one .npz body (see the module docstring)."""
    buffer = io.BytesIO()
    payload = {k: np.ascontiguousarray(v) for k, v in (arrays or {}).items()}
    payload[META] = np.frombuffer(json.dumps(meta or {}).encode("utf-8"), dtype=np.uint8)
    np.savez(buffer, **payload)
    return buffer.getvalue()


def unpack(body: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The inverse of `pack`; ValueError for anything that is not such a body (object arrays are refused)."""
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop(META).tobytes().decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any malformed body is the caller's error
        raise ValueError(f"not an explorer request body: {type(exc).__name__}: {exc}") from exc
    if not isinstance(meta, dict):
        raise ValueError("not an explorer request body: its __meta__ is not a JSON object")
    return meta, arrays


def message_to_json(value: Any) -> Any:
    """A Message / Joined / Refusal (values nested) -> JSON; other values as JSON-ready as they are, else str."""
    if isinstance(value, Refusal):
        value = value.message
    if isinstance(value, Message):
        return {"$message": value.code, "values": {k: message_to_json(v) for k, v in value.values.items()}}
    if isinstance(value, Joined):
        return {"$joined": [message_to_json(p) for p in value.parts]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [message_to_json(v) for v in value]
    return str(value)


def message_from_json(value: Any) -> Any:
    """The inverse of `message_to_json` (a code this side does not know is kept as its English text)."""
    if isinstance(value, dict) and "$message" in value:
        values = {k: message_from_json(v) for k, v in value.get("values", {}).items()}
        try:
            return Message(value["$message"], **values)
        except KeyError:
            return f"{value['$message']} {values}"
    if isinstance(value, dict) and "$joined" in value:
        return Joined(message_from_json(p) for p in value["$joined"])
    if isinstance(value, list):
        return [message_from_json(v) for v in value]
    return value


# ---- the client ----------------------------------------------------------------------------------------------
class _Geometry:
    """The geometry a Catalogue asks of a VAE (`factor`, `latent_shape((C, H, W))`), from the service's answer."""

    def __init__(self, shapes: dict):
        self.factor = shapes.get("factor") or 1
        self._input, self._latent = tuple(shapes["input_shape"]), list(shapes["latent_shape"])

    def latent_shape(self, input_shape: tuple) -> list[int]:
        if tuple(input_shape) == self._input:
            return self._latent
        if len(self._latent) == 3:  # a spatial latent scales with the image
            return [self._latent[0], input_shape[1] // self.factor, input_shape[2] // self.factor]
        return self._latent


class RemoteModelService:
    """ModelService's public surface over HTTP to a model service at `url` (python -m explorer.serve).

    `token`: the service's shared secret, sent as the X-Explorer-Token header (default EXPLORER_MODEL_SERVER_TOKEN).
    `timeout`: seconds to wait for any answer (default EXPLORER_MODEL_SERVER_TIMEOUT or 120); connecting waits at
    most CONNECT_TIMEOUT s. `start_wait`: seconds to keep asking for the catalogue at start-up (a service still
    starting answers "refused" or 503); after that, Refusal "serve.unreachable". Thread-safe."""

    def __init__(self, url: str, token: str | None = None, timeout: float | None = None,
                 start_wait: float = START_WAIT):
        import httpx
        import torch

        self.url = url.rstrip("/")
        self.token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        self.timeout = float(timeout if timeout is not None else os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
        self._http = httpx.Client(timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT),
                                  transport=httpx.HTTPTransport(retries=1),
                                  headers={TOKEN_HEADER: self.token} if self.token else {})
        self._weights_dir = tempfile.TemporaryDirectory(prefix="explorer-remote-")
        self._loaded: dict = {}
        self._load_lock = threading.Lock()
        self.base_device = self.device = torch.device("cpu")  # where this side runs anything (fetched modules)
        self.accelerator = None
        self.accelerated = False
        self.load_count: dict[str, int] = {}
        self.checkpoint_dir = None
        try:
            self.catalogue = self._fetch_catalogue(start_wait)
        except BaseException:
            self.close()
            raise

    # ---- transport ---------------------------------------------------------------------------------------------
    def call(self, route: str, meta: dict | None = None, arrays: dict | None = None,
             timeout: float | None = None) -> tuple[dict, dict[str, np.ndarray]]:
        """POST `pack(meta, arrays)` to `route`; the answer unpacked. Raises the service's Refusal as it was,
        CheckpointError for a broken checkpoint there, and Refusal "serve.*" when the call itself fails."""
        import httpx

        body = pack(meta, arrays)
        # no `timeout` argument = the client's (httpx reads timeout=None as "wait forever")
        limits = {} if timeout is None else {"timeout": httpx.Timeout(timeout, connect=CONNECT_TIMEOUT)}
        try:
            response = self._http.post(self.url + route, content=body,
                                       headers={"Content-Type": "application/octet-stream"}, **limits)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise Refusal("serve.unreachable", url=self.url, reason="connect timeout") from exc
            raise Refusal("serve.timeout", url=self.url, seconds=f"{timeout or self.timeout:g}") from exc
        except httpx.HTTPError as exc:  # refused, reset, closed mid-answer
            raise Refusal("serve.unreachable", url=self.url, reason=type(exc).__name__) from exc
        return self._answer(response, len(body))

    def _answer(self, response, sent: int) -> tuple[dict, dict[str, np.ndarray]]:
        status = response.status_code
        if status == 200:
            try:
                return unpack(response.content)
            except ValueError as exc:
                raise Refusal("serve.failed", url=self.url, detail=str(exc)) from exc
        try:
            detail = response.json()
        except ValueError:
            detail = {"error": response.text[:300]}
        if status == 422 and "refusal" in detail:
            message = message_from_json(detail["refusal"])
            raise Refusal(message) if isinstance(message, (Message, Joined)) else Refusal("serve.failed", url=self.url,
                                                                                          detail=message)
        if "checkpoint_error" in detail:
            raise CheckpointError(detail["checkpoint_error"])
        if status == 401:
            raise Refusal("serve.unauthorised", url=self.url)
        if status == 413:
            raise Refusal("serve.too_large", size=f"{sent / 2**20:.1f}", limit=detail.get("limit_mb", "?"))
        if status in (502, 503, 504):  # Ray Serve's proxy up, the deployment not (yet) running
            raise Refusal("serve.unreachable", url=self.url, reason=f"HTTP {status}")
        raise Refusal("serve.failed", url=self.url, detail=f"HTTP {status}: {detail.get('error', detail)}")

    def health(self, timeout: float = 5.0) -> dict:
        """The service's /health answer ({"status": "ok", "device", "replica", ...}); Refusal "serve.*" if none."""
        import httpx

        try:
            response = self._http.get(self.url + "/health", timeout=timeout)
        except httpx.HTTPError as exc:
            raise Refusal("serve.unreachable", url=self.url, reason=type(exc).__name__) from exc
        if response.status_code != 200:
            raise Refusal("serve.unreachable", url=self.url, reason=f"HTTP {response.status_code}")
        return response.json()

    def _fetch_catalogue(self, start_wait: float) -> Catalogue:
        deadline = time.monotonic() + start_wait
        while True:
            try:
                meta, _ = self.call("/catalogue")
                break
            except Refusal as exc:
                if exc.code != "serve.unreachable" or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.where = {"device": meta["device"], "accelerator": meta.get("accelerator"), "model_server": self.url}
        catalogue = Catalogue(Path(self._weights_dir.name) / "none")
        self._remote_folder: dict[str, bool] = {}
        for entry in meta["models"]:
            shapes = entry.get("shapes")
            catalogue.add(entry["name"], entry["config"], entry["metrics"], _Geometry(shapes) if shapes else None)
            self._remote_folder[entry["name"]] = bool(entry.get("has_weights"))
        return catalogue

    # ---- devices ---------------------------------------------------------------------------------------------
    def on_accelerator(self):
        return contextlib.nullcontext()

    def heavy(self, task: Callable[..., T], *args: Any, seconds: int = 60, **kwargs: Any) -> T:
        """task(self, *args, **kwargs) as ModelService.heavy would run it: the tasks in REMOTE_TASKS go to the
        service whole (it runs them with its accelerator); any other runs here over the remote calls."""
        remote = _remote_tasks().get(task)
        if remote is not None:
            return remote(self, *args, **kwargs)
        return task(self, *args, **kwargs)

    # ---- catalogue (answered from the copy fetched at start-up) ------------------------------------------------
    def names(self, kind: str | None = None, dataset: str | None = None) -> list[str]:
        return self.catalogue.names(kind, dataset)

    def config(self, name: str) -> dict:
        return self.catalogue.config(name)

    def metrics(self, name: str) -> dict:
        return self.catalogue.metrics(name)

    def vae_shapes(self, name: str) -> dict:
        return self.catalogue.vae_shapes(name)

    def describe(self, name: str) -> dict:
        """The /models entry, with where the models run: the service's device and accelerator, and its URL."""
        return self.catalogue.describe(name, self.where)

    def models(self) -> list[dict]:
        return [self.describe(name) for name in self.catalogue.names()]

    def warm_up(self, names: list[str] | None = None) -> None:
        """The service warms its own models; nothing to load here."""

    def start_warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self.warm_up, daemon=True)
        thread.start()
        return thread

    def add_external_vae(self, source: str) -> str:
        raise Refusal("serve.no_external")

    # ---- model calls -------------------------------------------------------------------------------------------
    def encode(self, name: str, images: np.ndarray, sample: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
        """As ModelService.encode: images (B, C, H, W) float in [0, 1] -> {"mean", "std", "z"} float32."""
        self.catalogue.check_kind(name, "vae")
        _, arrays = self.call("/encode", {"name": name, "sample": bool(sample), "seed": int(seed)},
                              {"images": np.asarray(images, np.float32)})
        return {k: arrays[k] for k in ("mean", "std", "z")}

    def decode(self, name: str, latents: np.ndarray) -> np.ndarray:
        """As ModelService.decode: latents (B, ...) -> images (B, C, H, W) float32 in [0, 1]."""
        self.catalogue.check_kind(name, "vae")
        return self.call("/decode", {"name": name}, {"latents": np.asarray(latents, np.float32)})[1]["images"]

    def get(self, name: str):
        """The model `name` as a LoadedModel on this side's CPU: its weights fetched once from the service."""
        from .checkpoint import load_checkpoint
        from .loader import LoadedModel

        self.catalogue.check(name)
        with self._load_lock:
            if name not in self._loaded:
                if not self._remote_folder.get(name):
                    raise Refusal("serve.failed", url=self.url, detail=f"{name!r} has no weights file to fetch")
                _, arrays = self.call("/weights", {"name": name})
                folder = Path(self._weights_dir.name) / name.replace("/", "_")
                folder.mkdir(parents=True, exist_ok=True)
                (folder / CONFIG_FILE).write_text(json.dumps(self.config(name)))
                (folder / METRICS_FILE).write_text(json.dumps(self.metrics(name)))
                (folder / WEIGHTS_FILE).write_bytes(arrays["safetensors"].tobytes())
                model, config, metrics = load_checkpoint(folder, self.device)
                self._loaded[name] = LoadedModel(name, model, config, metrics)
                self.load_count[name] = self.load_count.get(name, 0) + 1
            return self._loaded[name]

    def run(self, name: str, fn: Callable[[Any], T]) -> T:
        """fn(loaded) on this side, with the fetched model's lock held, under torch.inference_mode()."""
        import torch

        loaded = self.get(name)
        with loaded.lock, torch.inference_mode():
            return fn(loaded)

    def close(self) -> None:
        self._http.close()
        self._weights_dir.cleanup()


# ---- heavy tasks that go to the service whole ------------------------------------------------------------------
def _remote_reconstruct(service: RemoteModelService, name: str, batch: np.ndarray, sample: bool,
                        seed: int) -> tuple[dict, np.ndarray]:
    """reconstruction._encode_decode on the service: (encoded {"mean", "std", "z"}, decoded batch)."""
    _, arrays = service.call("/reconstruct", {"name": name, "sample": bool(sample), "seed": int(seed)},
                             {"batch": np.asarray(batch, np.float32)})
    return {k: arrays[k] for k in ("mean", "std", "z")}, arrays["decoded"]


GENERATION_ARRAYS = ("x_t", "pred_x0", "x0_images", "current_images", "final")


def generation_to_wire(g) -> tuple[dict, dict[str, np.ndarray]]:
    """A generation.Generation -> (meta, arrays) for the wire."""
    from dataclasses import asdict

    meta = {"request": asdict(g.request), "model": g.model, "vae": g.vae, "timesteps": list(map(int, g.timesteps)),
            "step_seconds": list(g.step_seconds), "decode_seconds": g.decode_seconds,
            "total_seconds": g.total_seconds, "params": int(g.params), "sample_shape": list(g.sample_shape)}
    return meta, {k: getattr(g, k) for k in GENERATION_ARRAYS}


def generation_from_wire(meta: dict, arrays: dict[str, np.ndarray]):
    from .generation import Generation, GenerationRequest

    return Generation(request=GenerationRequest(**meta["request"]), model=meta["model"], vae=meta["vae"],
                      timesteps=meta["timesteps"], step_seconds=meta["step_seconds"],
                      decode_seconds=meta["decode_seconds"], total_seconds=meta["total_seconds"],
                      params=meta["params"], sample_shape=meta["sample_shape"],
                      **{k: arrays[k] for k in GENERATION_ARRAYS})


def _remote_generate(service: RemoteModelService, request, model: str | None, batch: int, decode_frames: bool,
                     threads: int | None, should_stop=None):
    """generation._generate_with_threads on the service. `should_stop` is asked before sending and after the
    answer (CancelledError then, as in-process); the answer waits at most timeout + 1 s per 10 steps."""
    from dataclasses import asdict

    if should_stop is not None and should_stop():
        raise CancelledError("generation stopped before it was sent: the caller went away")
    meta, arrays = service.call("/generate", {"request": asdict(request), "model": model, "batch": int(batch),
                                              "decode_frames": bool(decode_frames)},
                                timeout=service.timeout + request.steps * batch / 10)
    if should_stop is not None and should_stop():
        raise CancelledError("generation stopped after sampling: the caller went away")
    return generation_from_wire(meta, arrays)


def _remote_tasks() -> dict:
    from . import generation, reconstruction

    return {reconstruction._encode_decode: _remote_reconstruct, generation._generate_with_threads: _remote_generate}
