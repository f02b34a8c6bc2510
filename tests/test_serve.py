"""The model service as its own process (python -m explorer.serve, Ray Serve) and the app over it
(app.py --model-server): answers identical to the in-process service, the token and the size cap, batching,
and what a frontend does when the service is killed mid-request and comes back.

Needs Ray Serve (requirements-serve.txt). Without it the tests that need a service are skipped, unless
EXPLORER_REQUIRE_RAY=1 (set by .ci/run), which turns the skip into a failure. One local Ray instance (1 CPU,
no dashboard) serves the whole module on a free port; it is stopped (process group killed) at the end.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from explorer.messages import Joined, Message, Refusal, word
from explorer.remote_service import (TIMEOUT_ENV, TOKEN_HEADER, RemoteModelService, message_from_json,
                                     message_to_json, pack, unpack)

from .conftest import ROOT, SHIPPED, free_port
from .e2e_support import MODEL, pixels, write_digit

RAY_MISSING = None if importlib.util.find_spec("ray") else "Ray Serve is not installed (pip install -r requirements-serve.txt)"
if RAY_MISSING and os.environ.get("EXPLORER_REQUIRE_RAY") == "1":
    raise RuntimeError(f"the model-service tests are required here (EXPLORER_REQUIRE_RAY=1) but {RAY_MISSING}")
needs_ray = pytest.mark.skipif(RAY_MISSING is not None, reason=RAY_MISSING or "")

TOKEN = "test-secret-0123"
MAX_BODY_MB = 2
CLIENT_TIMEOUT = 20.0  # seconds a frontend waits for an answer in these tests
GENERATE = (3, 7, 5, "ddim", 3.0, "latent")  # digit, seed, steps, sampler, guidance, space: a short run


# ---- no Ray needed --------------------------------------------------------------------------------------------------
def test_wire_format_round_trips_arrays_and_refuses_pickles():
    arrays = {"z": np.arange(12, dtype=np.float32).reshape(3, 4), "labels": np.array([1, 2], np.int64)}
    meta, back = unpack(pack({"name": "m", "seed": 3}, arrays))
    assert meta == {"name": "m", "seed": 3}
    assert set(back) == set(arrays) and all(np.array_equal(back[k], arrays[k]) and back[k].dtype == arrays[k].dtype
                                            for k in arrays)
    import io

    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.frombuffer(b"{}", np.uint8), bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not an explorer request body"):
        unpack(buffer.getvalue())
    with pytest.raises(ValueError):
        unpack(b"not a zip")


def test_refusals_cross_the_wire_with_their_code_and_values():
    import explorer.generation  # noqa: F401 - defines the gen.* codes used here
    original = Refusal("number.out_of_range", field=Message("gen.field.steps"), low=1, high=1000, value=5000)
    joined = Joined([Message("gen.field.digit"), "plain"])
    back = message_from_json(message_to_json(original))
    assert back == original.message and Refusal(back).word("zh") == original.word("zh")
    assert message_from_json(message_to_json(joined)) == joined


def test_exposed_service_without_a_token_is_refused_at_start():
    from explorer.serve import check_exposure, is_loopback, main

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    check_exposure("127.0.0.1", None)
    check_exposure("0.0.0.0", "secret")
    with pytest.raises(SystemExit, match="--token"):
        main(["--host", "0.0.0.0"])  # refused before Ray is imported or started


def test_app_and_client_import_without_ray():
    """Ray is an optional extra: with `import ray` failing, the app, the client and the service module import."""
    code = ("import sys; sys.modules['ray'] = None\n"
            "import app, explorer.remote_service, explorer.serve\n"
            "args = app.parse_args([]); assert args.model_server is None, args\n"
            "print('ok')")
    env = {k: v for k, v in os.environ.items() if k != "EXPLORER_MODEL_SERVER"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_model_server_flag_and_environment_variable(monkeypatch):
    from app import parse_args

    assert parse_args(["--model-server", "http://gpu:8700"]).model_server == "http://gpu:8700"
    monkeypatch.setenv("EXPLORER_MODEL_SERVER", "http://other:8700")
    assert parse_args([]).model_server == "http://other:8700"


class _StandIn:
    """A plain HTTP server that answers /catalogue like the service (no models) and then, per route: /hang never
    answers, /busy answers 503 (Ray Serve's proxy with no replica running), /boom answers 500."""

    def __enter__(self):
        import http.server

        catalogue = pack({"models": [], "device": "cpu", "accelerator": None})
        self.release = threading.Event()
        release = self.release

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/hang":
                    release.wait(30)
                    return
                status, body = {"/catalogue": (200, catalogue), "/busy": (503, b"{}"),
                                "/boom": (500, b'{"error": "RuntimeError: boom"}')}.get(self.path, (404, b"{}"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_service_that_never_answers_gives_a_timeout_refusal_not_a_hang():
    with _StandIn() as url:
        client = RemoteModelService(url, timeout=1.5)
        try:
            start = time.monotonic()
            with pytest.raises(Refusal) as hung:
                client.call("/hang")
            assert hung.value.code == "serve.timeout" and time.monotonic() - start < 10
            assert "1.5" in word(hung.value, "zh") and "秒内没有应答" in word(hung.value, "zh")
            with pytest.raises(Refusal) as busy:
                client.call("/busy")
            assert busy.value.code == "serve.unreachable"
            with pytest.raises(Refusal, match="failed: HTTP 500: RuntimeError: boom"):
                client.call("/boom")
        finally:
            client.close()
    with pytest.raises(Refusal) as gone:  # nobody listens any more: refused at once, after a short wait
        RemoteModelService(url, start_wait=1)
    assert gone.value.code == "serve.unreachable"


# ---- one model service for the module ------------------------------------------------------------------------------
class Service:
    """A `python -m explorer.serve` child process on a fixed port, restartable on the same port."""

    def __init__(self, log_path):
        self.port, self.log_path, self.process = free_port(), log_path, None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait for /health (three tries: see explorer.serve.spawn_healthy)."""
        from explorer.serve import spawn_healthy

        options = ["--port", str(self.port), "--num-cpus", "1", "--lazy", "--token", TOKEN, "--max-body-mb",
                   str(MAX_BODY_MB), "--max-batch", "16", "--batch-wait-ms", "100", "--device", "cpu"]
        try:
            self.process = spawn_healthy(options, self.log_path, self.url, attempts=3, timeout=300)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"the model service did not start ({exc}); its log:\n{self.log_tail()}")

    def kill(self) -> None:
        from explorer.serve import kill

        kill(self.process)

    def stop(self) -> None:
        from explorer.serve import kill

        if self.process is not None:
            kill(self.process)  # nothing of Ray is left to slow the tests after these

    def health(self) -> dict:
        import httpx

        return httpx.get(self.url + "/health", timeout=5).json()

    def log_tail(self) -> str:
        return open(self.log_path, errors="replace").read()[-3000:]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if RAY_MISSING:
        pytest.skip(RAY_MISSING)
    svc = Service(tmp_path_factory.mktemp("serve") / "service.log")
    svc.start()
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="module")
def remote(service):
    client = RemoteModelService(service.url, token=TOKEN, timeout=CLIENT_TIMEOUT)
    yield client
    client.close()


@pytest.fixture(scope="module")
def frontends(service):
    """Two apps built by app.py with --model-server (as `python app.py --model-server URL` builds them)."""
    from gradio_client import Client

    from app import build, parse_args
    from explorer.ui.app import launch_kwargs

    # The token and timeout reach app.build through the environment, as for `python app.py`. They are set for
    # the fixture's life and restored only after the apps are closed: changing os.environ while the apps' threads
    # read it (httpx reads proxy variables) raced once.
    saved = {k: os.environ.get(k) for k in ("EXPLORER_MODEL_SERVER_TOKEN", TIMEOUT_ENV)}
    os.environ.update({"EXPLORER_MODEL_SERVER_TOKEN": TOKEN, TIMEOUT_ENV: str(CLIENT_TIMEOUT)})
    apps = []
    try:
        for _ in range(2):
            args = parse_args(["--model-server", service.url, "--threads", "0"])
            remote_service, demo = build(args)
            _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                                    server_port=free_port(), **launch_kwargs())
            apps.append((remote_service, demo, Client(url, verbose=False)))
        yield apps
    finally:
        for remote_service, demo, client in apps:
            client.close()
            demo.close()
            remote_service.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def frames_of(path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


# ---- identical answers ---------------------------------------------------------------------------------------------
@needs_ray
def test_catalogue_is_the_services(remote, shipped_service):
    assert remote.names() == shipped_service.names()
    for name in shipped_service.names("vae"):
        assert remote.vae_shapes(name) == shipped_service.vae_shapes(name)
        assert remote.config(name)["family"] == shipped_service.config(name)["family"]
    entry = {m["name"]: m for m in remote.models()}[MODEL]
    assert entry["model_server"] == remote.url and entry["device"] == "cpu"


@needs_ray
@pytest.mark.parametrize("sample", [False, True])
def test_reconstruct_and_encode_are_identical_to_in_process(remote, shipped_service, sample):
    from explorer.data import load_mnist
    from explorer.reconstruction import reconstruct

    for name, index in ((MODEL, 3), ("chapter-vae-mnist", 11), ("vae-mnist-2d", 5)):
        image = load_mnist("test").images[index]
        here = reconstruct(shipped_service, name, image, sample=sample, seed=9)
        there = reconstruct(remote, name, image, sample=sample, seed=9)
        assert np.array_equal(here.reconstruction, there.reconstruction), name
        assert np.array_equal(here.z, there.z) and here.metrics == there.metrics, name


@needs_ray
def test_generate_is_identical_to_in_process(remote, shipped_service):
    from explorer.generation import generate, validate_request

    for space in ("latent", "pixel"):
        request = validate_request(*GENERATE[:5], space)
        here, there = generate(shipped_service, request), generate(remote, request)
        for field in ("x_t", "pred_x0", "x0_images", "current_images", "final"):
            assert np.array_equal(getattr(here, field), getattr(there, field)), (space, field)
        assert here.timesteps == there.timesteps and here.model == there.model and here.params == there.params


@needs_ray
def test_fetched_classifier_gives_the_same_confidence(remote, shipped_service):
    """The latent map runs the digit classifier itself: the client fetches its weights once."""
    from explorer.latent_map import LatentMapExplorer

    frames = np.random.default_rng(0).random((6, 28, 28)).astype(np.float32)
    assert LatentMapExplorer(remote).digit_confidence(frames) == LatentMapExplorer(shipped_service).digit_confidence(frames)
    assert remote.load_count["mnist-classifier"] == 1


@needs_ray
def test_service_refusals_arrive_as_the_same_refusals(remote, shipped_service):
    with pytest.raises(Refusal) as there:
        remote.call("/encode", {"name": "no-such-model"}, {"images": np.zeros((1, 1, 28, 28), np.float32)})
    with pytest.raises(Refusal) as here:
        shipped_service.encode("no-such-model", np.zeros((1, 1, 28, 28), np.float32))
    assert there.value.message == here.value.message and word(there.value, "zh") == word(here.value, "zh")
    with pytest.raises(Refusal, match="steps must be between 1 and 1000"):  # re-validated by the service
        remote.call("/generate", {"request": {"digit": 3, "seed": 1, "steps": 5000, "sampler": "ddim",
                                              "guidance": 3.0, "space": "latent", "spacing": "leading"}})


@needs_ray
def test_concurrent_decodes_share_a_pass(remote, shipped_service, service):
    """With --max-batch > 1 (this module's service: 16) concurrent decodes of one model share a forward pass.
    A larger batch may take another CPU kernel path, so the floats may differ in the last bits from a decode of
    each alone (measured here: ~1e-7); the default --max-batch 1 never batches, so answers stay bit-identical."""
    shape = shipped_service.vae_shapes(MODEL)["latent_shape"]
    latents = [np.random.default_rng(i).standard_normal((3, *shape)).astype(np.float32) for i in range(8)]
    before = service.health()
    results, barrier = [None] * len(latents), threading.Barrier(len(latents))

    def one(i):
        barrier.wait()
        results[i] = remote.decode(MODEL, latents[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(latents))]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    after = service.health()
    requests = after["decode_requests"] - before["decode_requests"]
    batches = after["decode_batches"] - before["decode_batches"]
    assert requests == len(latents) and batches < requests, (requests, batches)
    for z, images in zip(latents, results):
        assert images.shape == (3, 1, 28, 28)
        np.testing.assert_allclose(images, shipped_service.decode(MODEL, z), rtol=0, atol=1e-5)


# ---- who may call it -----------------------------------------------------------------------------------------------
@needs_ray
def test_calls_without_the_token_are_refused(service):
    import httpx

    body = pack({}, {})
    assert httpx.post(service.url + "/catalogue", content=body, timeout=10).status_code == 401
    assert httpx.post(service.url + "/catalogue", content=body, headers={TOKEN_HEADER: "wrong"},
                      timeout=10).status_code == 401
    assert httpx.post(service.url + "/catalogue", content=body, headers={TOKEN_HEADER: TOKEN},
                      timeout=10).status_code == 200
    assert httpx.get(service.url + "/health", timeout=10).status_code == 200  # a load balancer's probe
    with pytest.raises(Refusal) as refused:
        RemoteModelService(service.url, token="wrong", start_wait=0)
    assert refused.value.code == "serve.unauthorised" and "EXPLORER_MODEL_SERVER_TOKEN" in word(refused.value, "zh")


@needs_ray
def test_request_bodies_over_the_cap_are_refused(remote, service):
    import httpx

    too_big = np.zeros((MAX_BODY_MB * 2**20 // 4 + 1024,), np.float32).reshape(-1, 4, 1, 1)
    with pytest.raises(Refusal) as refused:
        remote.decode(MODEL, too_big)
    assert refused.value.code == "serve.too_large" and f"({MAX_BODY_MB:.1f} MB)" in str(refused.value)
    streamed = httpx.post(service.url + "/decode", content=iter([b"0" * 2**20] * (MAX_BODY_MB + 1)),
                          headers={TOKEN_HEADER: TOKEN}, timeout=30)  # no Content-Length: capped while read
    assert streamed.status_code == 413
    assert service.health()["status"] == "ok"


# ---- the frontends ---------------------------------------------------------------------------------------------------
@needs_ray
def test_two_frontends_answer_pixel_identically_to_the_in_process_app(frontends, app_server, tmp_path):
    _, local = app_server
    digit = str(write_digit(tmp_path, 7))
    from gradio_client import handle_file

    answers = [client.predict(handle_file(digit), MODEL, api_name="/reconstruct")
               for client in [local] + [c for _, _, c in frontends]]
    first = pixels(answers[0][0])
    for image, metrics in answers[1:]:
        assert np.array_equal(pixels(image), first)
        assert metrics == answers[0][1]
    runs = [client.predict(*GENERATE, api_name="/generate") for client in [local] + [c for _, _, c in frontends]]
    final, frames = pixels(runs[0][0]), frames_of(runs[0][1])
    for image, frames_file, timings in runs[1:]:
        assert np.array_equal(pixels(image), final)
        other = frames_of(frames_file)
        assert set(other) == set(frames) and all(np.array_equal(other[k], frames[k]) for k in frames)
        assert timings["settings"] == runs[0][2]["settings"]
    models = frontends[0][2].predict(api_name="/models")
    assert {m["model_server"] for m in models} == {frontends[0][0].url}


@needs_ray
def test_killed_service_gives_a_clear_error_in_time_and_recovers(frontends, app_server, service, tmp_path):
    """Kill the service (its whole process group, as a crash would) while a frontend waits on a long sampling run:
    the frontend answers with the service's error, in well under its timeout, and nothing hangs; once the service
    is started again, the same frontend answers again, with the same pixels as the in-process app."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    remote_service, _, client = frontends[0]
    job = client.submit(-1, 1, 1000, "ddpm", 0.0, "pixel", api_name="/generate")  # ~30 s of sampling
    deadline = time.monotonic() + 60
    while service.health()["in_flight"] < 1:  # wait for the run to reach the service
        assert time.monotonic() < deadline and not job.done(), "the run never reached the service"
        time.sleep(0.2)
    killed = time.monotonic()
    service.kill()
    with pytest.raises(AppError, match="cannot be reached|did not answer"):
        job.result(timeout=CLIENT_TIMEOUT + 30)
    assert time.monotonic() - killed < CLIENT_TIMEOUT, "the error took longer than the frontend's timeout"
    with pytest.raises(Refusal) as down:  # a new call while it is down: at once, in the page's language
        remote_service.decode(MODEL, np.zeros((1, *remote_service.vae_shapes(MODEL)["latent_shape"]), np.float32))
    assert down.value.code == "serve.unreachable" and "无法连接" in word(down.value, "zh")

    service.start()
    digit = str(write_digit(tmp_path, 7))
    image, metrics = client.predict(handle_file(digit), MODEL, api_name="/reconstruct")
    expected, expected_metrics = app_server[1].predict(handle_file(digit), MODEL, api_name="/reconstruct")
    assert np.array_equal(pixels(image), pixels(expected)) and metrics == expected_metrics
