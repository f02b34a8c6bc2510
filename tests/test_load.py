"""Load: a class of 50 users at once, each with its own gradio_client session, mixing /interpolate, /reconstruct and
/generate with inputs no other user sends. Every answer is checked against the answer computed for THAT
user's inputs beforehand (in this process, through the same service), so a result delivered to the wrong
user, a crash under contention or a lost request fails the test; a global deadline turns a deadlock into
a failure instead of a hang. The server runs with the app's default queue settings (`app.py`: 4 events
at once, 256 queued), the ones the README sizes for a class. Small step counts keep it to about a minute.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from gradio_client import Client, handle_file

from tests.e2e_support import MODEL, held_out, max_level_diff, pixels, psnr, write_digit

CLIENTS = 50  # a class
SAME_REQUEST_CLIENTS = 16
GEN_STEPS = 4
DEADLINE_S = 300.0  # all 150 calls


@dataclass
class User:
    """One simulated student: distinct inputs, the answers expected for them, what came back."""

    number: int
    pair: tuple[int, int]
    alpha: float
    method: str
    digit_index: int
    gen: tuple[int, int]  # (digit, seed)
    expected: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    step: str = "not started"


def make_users() -> list[User]:
    labels = held_out().labels
    rng = np.random.default_rng(16)
    users, used = [], set()
    for k in range(CLIENTS):
        while True:
            a, b = (int(i) for i in rng.choice(len(labels), 2, replace=False))
            digit_index = int(rng.integers(len(labels)))
            if not {a, b, digit_index} & used and labels[a] != labels[b]:
                used |= {a, b, digit_index}
                break
        users.append(User(k, (a, b), alpha=round(float(rng.uniform(0.2, 0.8)), 3), method=("lerp", "slerp")[k % 2],
                          digit_index=digit_index, gen=(k % 10, 500 + k)))
    return users


def expected_answers(service, users: list[User]) -> None:
    """What each user must receive, computed before any request is sent."""
    from explorer.generation import generate, validate_request
    from explorer.latent_map import LatentMapExplorer, to_uint8
    from explorer.reconstruction import reconstruct

    explorer = LatentMapExplorer(service)
    for u in users:
        u.expected["interpolate"] = to_uint8(explorer.interpolate(MODEL, *u.pair, u.alpha, u.method))
        r = reconstruct(service, MODEL, held_out().images[u.digit_index])
        u.expected["reconstruct"] = np.round(r.reconstruction * 255).astype(np.uint8)
        request = validate_request(u.gen[0], u.gen[1], GEN_STEPS, "ddim", 3.0, "latent")
        final = generate(service, request, decode_frames=False).final[0, 0]
        u.expected["generate"] = np.round(np.clip(final, 0, 1) * 255).astype(np.uint8)


# 50 clients fetching the app's config (about 650 KB) at the same moment on 2 cores take longer than httpx's default
# 5 s; a browser waits, so the test does too (what it checks is that every user gets their own answer)
CONNECT = {"timeout": 60}


def run_user(url: str, u: User, folder, start: threading.Barrier) -> None:
    """Three calls, in an order that differs between users, each checked against this user's answer."""
    try:
        u.step = "connecting"
        client = Client(url, verbose=False, httpx_kwargs=CONNECT)
        digit_file = handle_file(str(write_digit(folder, u.digit_index)))
        start.wait(timeout=120)
        calls = ["interpolate", "reconstruct", "generate"]
        calls = calls[u.number % 3:] + calls[:u.number % 3]
        for name in calls:
            u.step = f"waiting for /{name}"
            t0 = time.perf_counter()
            if name == "interpolate":
                got = pixels(client.predict(*u.pair, u.alpha, u.method, MODEL, api_name="/interpolate"))
                if not np.array_equal(got, u.expected[name]):
                    u.failures.append(f"/interpolate {u.pair} alpha={u.alpha}: not this user's frame "
                                      f"(max diff {max_level_diff(got, u.expected[name])} levels)")
            elif name == "reconstruct":
                path, payload = client.predict(digit_file, MODEL, api_name="/reconstruct")
                got = pixels(path)
                own = psnr(got, held_out().images[u.digit_index] * 255)
                if max_level_diff(got, u.expected[name]) > 1 or abs(own - payload["psnr"]) > 1e-3:
                    u.failures.append(f"/reconstruct #{u.digit_index}: PSNR vs own digit {own:.2f} dB, "
                                      f"reported {payload['psnr']:.2f} dB, max diff to expected "
                                      f"{max_level_diff(got, u.expected[name])} levels")
            else:
                digit, seed = u.gen
                final, frames_file, info = client.predict(digit, seed, GEN_STEPS, "ddim", 3.0, "latent",
                                                          api_name="/generate")
                got = pixels(final)
                settings = info["settings"]
                with np.load(frames_file) as frames:  # ONE .npz file with every step (README: /generate)
                    n_frames = len(frames["timesteps"])
                if (settings["digit"], settings["seed"]) != (digit, seed) or n_frames != GEN_STEPS:
                    u.failures.append(f"/generate digit={digit} seed={seed}: answer for "
                                      f"{settings['digit']}/{settings['seed']} with {n_frames} frames")
                elif psnr(got, u.expected[name]) < 40:  # same request, other batch size: rounding only
                    u.failures.append(f"/generate digit={digit} seed={seed}: not this user's image "
                                      f"(PSNR {psnr(got, u.expected[name]):.1f} dB vs expected)")
            u.latency[name] = time.perf_counter() - t0
        u.step = "done"
        client.close()
    except Exception as exc:  # noqa: BLE001 - every error is a test failure, reported with its user
        u.failures.append(f"{u.step}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
        u.step = "failed"
        start.abort()  # users still waiting to start fail fast instead of waiting for this one


def test_a_class_of_fifty_concurrent_users_get_their_own_answers(app_server, shipped_service, tmp_path):
    url, client = app_server
    users = make_users()
    expected_answers(shipped_service, users)
    start = threading.Barrier(CLIENTS)
    threads = [threading.Thread(target=run_user, args=(url, u, tmp_path, start), daemon=True,
                                name=f"user-{u.number}") for u in users]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    deadline = t0 + DEADLINE_S
    for thread in threads:  # daemon threads: a hung call cannot keep pytest alive
        thread.join(timeout=max(0.0, deadline - time.perf_counter()))
    wall = time.perf_counter() - t0
    stuck = [f"user {u.number}: {u.step}" for u, t in zip(users, threads) if t.is_alive()]
    assert not stuck, f"deadlock or starvation: after {DEADLINE_S:.0f} s still waiting: {stuck}"
    failures = [f"user {u.number}: {f}" for u in users for f in u.failures]
    assert not failures, "\n".join(failures)
    assert all(len(u.latency) == 3 for u in users)
    latencies = sorted(s for u in users for s in u.latency.values())
    print(f"\n{CLIENTS} users x 3 calls in {wall:.1f} s: {3 * CLIENTS / wall:.2f} calls/s, "
          f"p50 {np.percentile(latencies, 50):.2f} s, p95 {np.percentile(latencies, 95):.2f} s")
    # and the server is still fine afterwards
    assert client.predict(api_name="/ping") == "ok"
    u = users[0]
    assert np.array_equal(pixels(client.predict(*u.pair, u.alpha, u.method, MODEL, api_name="/interpolate")),
                          u.expected["interpolate"])


def test_sixteen_users_sending_the_same_request_all_get_complete_images(app_server, shipped_service):
    """A class starts from the same defaults (digit 3, seed 0; the same held-out pair), so identical requests
    arrive together. Identical answers share one content-addressed file in Gradio's cache; every user must
    still download a complete, correct PNG. (Fails with gradio 6.31 as shipped: its save_pil_to_cache
    rewrites that shared file in place, so a concurrent download can read it truncated and the client gets
    `RemoteProtocolError: peer closed connection without sending complete message body`.)"""
    from explorer.generation import generate, validate_request
    from explorer.latent_map import LatentMapExplorer, to_uint8

    url, client = app_server
    expected_interp = to_uint8(LatentMapExplorer(shipped_service).interpolate(MODEL, 150, 400, 0.5, "lerp"))
    final = generate(shipped_service, validate_request(3, 0, GEN_STEPS, "ddim", 3.0, "latent"),
                     decode_frames=False).final[0, 0]
    expected_final = np.round(np.clip(final, 0, 1) * 255).astype(np.uint8)
    failures: list[str] = []
    start = threading.Barrier(SAME_REQUEST_CLIENTS)

    def same_as_everyone(k: int) -> None:
        try:
            user = Client(url, verbose=False, httpx_kwargs=CONNECT)
            start.wait(timeout=120)
            for _ in range(3):
                got = pixels(user.predict(150, 400, 0.5, "lerp", MODEL, api_name="/interpolate"))
                if not np.array_equal(got, expected_interp):
                    failures.append(f"user {k}: /interpolate image differs")
            final_path, frames_file, _ = user.predict(3, 0, GEN_STEPS, "ddim", 3.0, "latent", api_name="/generate")
            final_pixels = pixels(final_path)
            with np.load(frames_file) as frames:  # a complete file: every array of every step is there
                complete = (len(frames["timesteps"]) == GEN_STEPS and frames["x0_images"].shape[0] == GEN_STEPS
                            and np.array_equal(frames["final"], final_pixels.reshape(frames["final"].shape)))
            if psnr(pixels(final_path), expected_final) < 40 or not complete:
                failures.append(f"user {k}: /generate answer differs")
            user.close()
        except Exception as exc:  # noqa: BLE001
            failures.append(f"user {k}: {type(exc).__name__}: {exc}")
            start.abort()

    threads = [threading.Thread(target=same_as_everyone, args=(k,), daemon=True) for k in range(SAME_REQUEST_CLIENTS)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, t0 + DEADLINE_S - time.perf_counter()))
    assert not any(thread.is_alive() for thread in threads), "deadlock or starvation"
    assert not failures, f"{len(failures)} of {SAME_REQUEST_CLIENTS * 4} identical calls failed:\n" + "\n".join(failures)
    assert client.predict(api_name="/ping") == "ok"
