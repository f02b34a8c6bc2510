"""The model service as its own process, on Ray Serve: `python -m explorer.serve [--port P] [--replicas N]
[--device D]`. Frontends (`python app.py --model-server http://HOST:P`) then load no models: they send the
work here (explorer/remote_service.py is the client and the wire format). For a class larger than one
machine: several stateless Gradio frontends behind a sticky load balancer, one GPU service (README, "Beyond one
machine"). Without `--model-server` the app keeps its in-process ModelService, and Ray is never imported.

Ray is an optional extra (requirements-serve.txt, ray[serve] pinned); it is imported only when this runs.
Ray Serve's own Gradio integration is not used (it serves one replica of a whole Gradio app): Ray Serve holds
the models, Gradio stays the frontend.

One deployment, `ExplorerModels`, with `--replicas` replicas (each its own ModelService, on `--device`;
replicas on one CUDA GPU share it, num_gpus = 1/N each). Routes (POST, body and answer in
remote_service.pack's format unless said):
  /health      GET or POST, JSON: status, device, replica, decode batching counters. Needs no token.
  /catalogue   every model: config.json, metrics.json, VAE shapes, whether its weights can be fetched
  /encode      ModelService.encode
  /decode      ModelService.decode, through @serve.batch: with --max-batch N > 1, concurrent calls for the same
               model and latent shape (e.g. several pages' interpolation frames) share one forward pass, up to N
               calls within --batch-wait-ms. A bigger batch may take another kernel path: measured on this CPU,
               3 digits decoded inside a batch of 24 differed from the same 3 alone by ~1e-7 (float32 last
               bits), so a rare 8-bit pixel can differ from the in-process app. The default, N = 1, never
               batches across requests and keeps every answer bit-identical; raise it on a GPU for throughput.
  /reconstruct a photo's or digit's encode/decode round trip (reconstruction._encode_decode via `heavy`)
  /generate    a whole sampling run (explorer.generation.generate), the request re-validated here
  /weights     a checkpoint's model.safetensors bytes, for small modules a frontend runs itself (the classifier)
Sampling steps are not batched across requests: each run is one sequential loop over its own steps (batching
steps of different runs would need a step scheduler; on a GPU, replicas give the concurrency instead).

Who may call it: it listens on 127.0.0.1 unless `--host` says otherwise. With `--token` (or
EXPLORER_MODEL_SERVER_TOKEN) every route but /health needs the X-Explorer-Token header (else HTTP 401);
listening on any non-loopback address without a token is refused at start. Request bodies over
`--max-body-mb` (default 32 MB: a 512 x 512 photo as float32 is 3 MB) get HTTP 413 before they are read.

Ray: a local instance is started (address="local", no dashboard, `--num-cpus`) unless `--address` joins an
existing cluster (whose nodes must have this repository on their PYTHONPATH, or use a runtime_env working_dir).
Stop with Ctrl-C or SIGTERM: Serve and Ray are shut down.
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .remote_service import (TOKEN_ENV, TOKEN_HEADER, generation_to_wire, message_to_json, pack, unpack)

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "explorer"
DEPLOYMENT = "ExplorerModels"
DEFAULT_PORT = 8700
DEFAULT_MAX_BODY_MB = 32
MAX_GENERATE_BATCH = 64


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m explorer.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--replicas", type=int, default=1, help="replicas of the model deployment (default 1)")
    parser.add_argument("--device", default=env("EXPLORER_DEVICE", "auto"), help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--checkpoints", default=env("EXPLORER_CHECKPOINTS"), help="checkpoint folder")
    parser.add_argument("--vae", action="append", default=[s for s in env("EXPLORER_VAES", "").split(",") if s],
                        metavar="PATH_OR_ID", help="extra diffusers VAE (folder or hub id); repeatable")
    parser.add_argument("--token", default=env(TOKEN_ENV) or None,
                        help=f"shared secret the frontends send (default ${TOKEN_ENV}); needed off loopback")
    parser.add_argument("--address", default=None, help="join this Ray cluster instead of starting a local one")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray instance (default all)")
    parser.add_argument("--cpus-per-replica", type=float, default=1.0, help="Ray CPUs each replica reserves")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per replica (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="calls a replica runs at once (default 4)")
    parser.add_argument("--max-batch", type=int, default=1,
                        help="most concurrent decode calls batched into one pass (default 1: none, answers "
                             "bit-identical to the in-process app; e.g. 16 on a GPU for throughput)")
    parser.add_argument("--batch-wait-ms", type=float, default=5.0, help="how long a decode waits for company")
    parser.add_argument("--max-body-mb", type=float, default=DEFAULT_MAX_BODY_MB, help="largest request body")
    parser.add_argument("--lazy", action="store_true", help="load models on first use instead of at start")
    return parser.parse_args(argv)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """SystemExit with a clear message when `host` is not loopback and no token is set."""
    if not is_loopback(host) and not token:
        raise SystemExit(f"error: --host {host} exposes the model service; give --token (or {TOKEN_ENV}) so that "
                         "only frontends holding the same secret may call it")


class _Answer(Exception):
    """An HTTP answer other than 200, raised inside a route (status, JSON body)."""

    def __init__(self, status: int, body: dict):
        super().__init__(status)
        self.status, self.body = status, body


class ModelServer:
    """The deployment's replica: one ModelService and the routes above. Made a Ray Serve deployment by
    `application` (so that importing this module needs no Ray)."""

    batched = False  # True in the deployment class, whose _decode_many is wrapped by @serve.batch

    def __init__(self, checkpoints: str | None, device: str, vaes: list[str], token: str | None,
                 max_body_bytes: int, threads: int, workers: int, lazy: bool):
        import torch

        from .service import ModelService

        if threads > 0:
            torch.set_num_threads(threads)
        self.service = ModelService(checkpoints, device=device)
        for source in vaes:
            self.service.add_external_vae(source)
        self.token = token
        self.max_body_bytes = int(max_body_bytes)
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="explorer-serve")
        self.replica = f"{os.uname().nodename}:{os.getpid()}"
        self.decode_requests = self.decode_batches = self.in_flight = 0
        self.routes = {"/catalogue": self._catalogue, "/encode": self._encode, "/decode": self._decode,
                       "/reconstruct": self._reconstruct, "/generate": self._generate, "/weights": self._weights}
        if not lazy:
            self.service.start_warm_up()

    # ---- HTTP --------------------------------------------------------------------------------------------------
    async def __call__(self, request):
        from starlette.responses import JSONResponse, Response

        path = request.url.path.rstrip("/") or "/"
        if path == "/health":
            return JSONResponse(self._health())
        try:
            if self.token and not hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(),
                                                      self.token.encode()):
                raise _Answer(401, {"error": f"missing or wrong {TOKEN_HEADER} header"})
            route = self.routes.get(path)
            if route is None or request.method != "POST":
                raise _Answer(404, {"error": f"no route {request.method} {path}; routes: POST "
                                             f"{', '.join(self.routes)}, GET /health"})
            meta, arrays = unpack(await self._body(request))
            self.in_flight += 1
            try:
                meta_out, arrays_out = await route(meta, arrays)
            finally:
                self.in_flight -= 1
            return Response(pack(meta_out, arrays_out), media_type="application/octet-stream")
        except _Answer as answer:
            return JSONResponse(answer.body, status_code=answer.status)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an answer; the replica stays up
            return JSONResponse(*self._failure(exc))

    async def _body(self, request) -> bytes:
        """The request body, refused (413) once it is over the cap: by Content-Length before reading, else
        while reading."""
        limit = {"error": "request body too large", "limit_mb": round(self.max_body_bytes / 2**20, 1)}
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _Answer(413, limit)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _Answer(413, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _failure(exc: Exception) -> tuple[dict, int]:
        from .checkpoint import CheckpointError
        from .messages import Refusal

        if isinstance(exc, Refusal):
            return {"refusal": message_to_json(exc)}, 422
        if isinstance(exc, CheckpointError):
            return {"checkpoint_error": str(exc)}, 500
        if isinstance(exc, ValueError):  # a malformed body (unpack) or a bad value
            return {"error": str(exc)}, 400
        return {"error": f"{type(exc).__name__}: {exc}"}, 500

    async def _in_thread(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    # ---- routes ------------------------------------------------------------------------------------------------
    def _health(self) -> dict:
        service = self.service
        return {"status": "ok", "replica": self.replica, "device": str(service.base_device),
                "accelerator": str(service.accelerator) if service.accelerator is not None else None,
                "models": len(service.names()), "loaded": sorted(service.load_count),
                "in_flight": self.in_flight, "decode_requests": self.decode_requests, "decode_batches": self.decode_batches}

    async def _catalogue(self, meta: dict, arrays: dict):
        from .checkpoint import WEIGHTS_FILE, CheckpointError

        service, models = self.service, []
        for name in service.names():
            config = service.config(name)
            if not config.get("broken"):  # a broken one keeps its folder, so the frontend can name the bad file
                config = {k: v for k, v in config.items() if not k.startswith("_")}
            try:
                metrics = service.metrics(name)
            except CheckpointError:
                metrics = {}
            try:
                shapes = service.vae_shapes(name) if config.get("kind") == "vae" else None
            except (CheckpointError, ValueError):
                shapes = None
            folder = service.catalogue.folder(name)
            models.append({"name": name, "config": config, "metrics": metrics, "shapes": shapes,
                           "has_weights": bool(folder and (folder / WEIGHTS_FILE).exists())})
        return {"models": models, "device": str(service.base_device),
                "accelerator": str(service.accelerator) if service.accelerator is not None else None}, {}

    async def _encode(self, meta: dict, arrays: dict):
        encoded = await self._in_thread(lambda: self.service.encode(meta["name"], arrays["images"],
                                                                    sample=bool(meta.get("sample")),
                                                                    seed=int(meta.get("seed", 0))))
        return {}, encoded

    async def _decode(self, meta: dict, arrays: dict):
        item = (str(meta["name"]), arrays["latents"])
        # `application` replaces _decode_many by its @serve.batch wrapper, which takes ONE item per caller
        outcome, value = await self._decode_many(item) if self.batched else (await self._decode_many([item]))[0]
        if outcome == "error":
            raise value
        return {}, {"images": value}

    async def _decode_many(self, items: list[tuple[str, np.ndarray]]) -> list[tuple[str, object]]:
        """@serve.batch's handler: items for the same model and latent shape are decoded in one pass and split
        back; each caller gets ("ok", images) or ("error", exception)."""
        self.decode_requests += len(items)
        groups: dict[tuple, list[int]] = {}
        for i, (name, latents) in enumerate(items):
            groups.setdefault((name, tuple(np.shape(latents)[1:])), []).append(i)
        results: list = [None] * len(items)
        for (name, _), members in groups.items():
            self.decode_batches += 1
            latents = [np.asarray(items[i][1], np.float32) for i in members]
            try:
                images = await self._in_thread(self.service.decode, name, np.concatenate(latents))
            except Exception as exc:  # noqa: BLE001 - handed to each caller of this group
                for i in members:
                    results[i] = ("error", exc)
                continue
            start = 0
            for i, z in zip(members, latents):
                results[i] = ("ok", images[start:start + len(z)])
                start += len(z)
        return results

    async def _reconstruct(self, meta: dict, arrays: dict):
        from .reconstruction import PHOTO_GPU_SECONDS, _encode_decode

        def work():
            return self.service.heavy(_encode_decode, meta["name"], arrays["batch"], bool(meta.get("sample")),
                                      int(meta.get("seed", 0)), seconds=PHOTO_GPU_SECONDS)

        encoded, decoded = await self._in_thread(work)
        return {}, {**encoded, "decoded": decoded}

    async def _generate(self, meta: dict, arrays: dict):
        from .generation import generate, validate_request
        from .validation import whole_number

        r = meta["request"]
        request = validate_request(r["digit"], r["seed"], r["steps"], r["sampler"], r["guidance"], r["space"],
                                   r["spacing"])
        batch = whole_number(meta.get("batch", 1), "batch", 1, MAX_GENERATE_BATCH)
        model = meta.get("model")
        g = await self._in_thread(lambda: generate(self.service, request, model=model, batch=batch,
                                                   decode_frames=bool(meta.get("decode_frames", True))))
        return generation_to_wire(g)

    async def _weights(self, meta: dict, arrays: dict):
        from .checkpoint import WEIGHTS_FILE

        folder = self.service.catalogue.folder(str(meta["name"]))  # Refusal "model.unknown" for a stranger
        if folder is None or not (folder / WEIGHTS_FILE).exists():
            raise _Answer(404, {"error": f"{meta['name']!r} has no weights file here"})
        data = await self._in_thread((folder / WEIGHTS_FILE).read_bytes)
        return {}, {"safetensors": np.frombuffer(data, dtype=np.uint8)}


def application(args: argparse.Namespace):
    """The Ray Serve application (a bound deployment) for these options."""
    from ray import serve

    batched = serve.batch(max_batch_size=max(1, args.max_batch),
                          batch_wait_timeout_s=max(0.0, args.batch_wait_ms) / 1000.0)(ModelServer._decode_many)
    # serve.batch recognises a method by finding the wrapper under the wrapped function's own name on `self`
    replica_class = type(DEPLOYMENT, (ModelServer,), {"_decode_many": batched, "batched": True,
                                                       "__module__": __name__})
    on_gpu = str(args.device).startswith("cuda")
    options = {"num_cpus": args.cpus_per_replica, **({"num_gpus": 1.0 / max(1, args.replicas)} if on_gpu else {})}
    deployment = serve.deployment(name=DEPLOYMENT, num_replicas=max(1, args.replicas), max_ongoing_requests=64,
                                  ray_actor_options=options)(replica_class)
    return deployment.bind(args.checkpoints, args.device, list(args.vae), args.token,
                           int(args.max_body_mb * 2**20), args.threads, args.workers, args.lazy)


def start(args: argparse.Namespace) -> None:
    """Start (or join) Ray, then Serve's HTTP proxy on args.host:args.port, and deploy the models."""
    import ray
    from ray import serve

    paths = [str(ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(paths), "OMP_WAIT_POLICY": "PASSIVE"}}
    if args.address:
        ray.init(address=args.address, runtime_env=runtime_env, log_to_driver=False)
    else:
        ray.init(address="local", num_cpus=args.num_cpus, include_dashboard=False, runtime_env=runtime_env,
                 log_to_driver=False)
    serve.start(http_options={"host": args.host, "port": args.port})
    serve.run(application(args), name=APP_NAME, route_prefix="/")


def stop() -> None:
    import ray
    from ray import serve

    try:
        serve.shutdown()
    finally:
        ray.shutdown()


# ---- a service in a child process (tests, benchmarks) --------------------------------------------------------------
def spawn(options: list[str], log_path: str | os.PathLike) -> "subprocess.Popen":
    """`python -m explorer.serve *options` in its own process group (Ray's head processes join it), output to
    `log_path`. Stop it with `terminate` (graceful) or `kill` (SIGKILL to the whole group: the service dies
    as on a crashed machine, Ray's actors with it)."""
    import subprocess

    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "explorer.serve", *options], cwd=str(ROOT), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                    [str(ROOT), *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]])})


def wait_healthy(url: str, process=None, timeout: float = 240.0) -> dict:
    """Poll GET url/health until it answers 200 (its JSON), the process exits (RuntimeError) or `timeout` s
    pass (TimeoutError)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the model service exited with code {process.returncode}")
        try:
            response = httpx.get(url.rstrip("/") + "/health", timeout=2.0)
            if response.status_code == 200:
                return response.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the model service at {url} did not become healthy within {timeout:g} s")


def spawn_healthy(options: list[str], log_path: str | os.PathLike, url: str, attempts: int = 3,
                  timeout: float = 300.0):
    """`spawn` then `wait_healthy`, up to `attempts` times (each failed try is killed): Ray gives its raylet a
    fixed 30 s to register at start, which a heavily loaded 2-core machine can miss. Returns the process."""
    for attempt in range(1, attempts + 1):
        process = spawn(options, log_path)
        try:
            wait_healthy(url, process, timeout)
            return process
        except (RuntimeError, TimeoutError):
            kill(process)
            if attempt == attempts:
                raise


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc; [] elsewhere). Ray's actors (controller, proxy, replicas) run in
    their own sessions under the raylet, so a process-group kill does not reach them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill(process) -> None:
    """SIGKILL the service as a crash would: its process group (the driver, Ray's head) and every process
    below it (Ray's actors, which would otherwise answer for a few seconds more)."""
    targets = _descendants(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in targets:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


def terminate(process, grace: float = 30.0) -> None:
    """SIGTERM: Serve and Ray shut down; after `grace` s, `kill`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
            pass
    kill(process)  # also any of the group left behind


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_exposure(args.host, args.token)
    try:
        import ray  # noqa: F401
    except ImportError:
        sys.exit("error: Ray Serve is not installed; pip install -r requirements-serve.txt")

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        start(args)
        print(f"model service ready at http://{args.host}:{args.port} "
              f"({args.replicas} replica(s), device {args.device}; Ctrl-C stops it)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stop()


if __name__ == "__main__":
    main()
