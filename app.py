"""Latent Space Explorer. `python app.py` serves the Gradio app at http://127.0.0.1:7860.

Every option also reads an environment variable, so a Hugging Face Space can be configured without code:
  --host        GRADIO_SERVER_NAME    (default 127.0.0.1; a Space sets 0.0.0.0)
  --port        GRADIO_SERVER_PORT    (default 7860)
  --device      EXPLORER_DEVICE       auto | cpu | cuda | cuda:N | mps   (default auto: CUDA, MPS, CPU)
  --checkpoints EXPLORER_CHECKPOINTS  folder of trained checkpoints (default ./checkpoints)
  --vae         EXPLORER_VAES         extra diffusers AutoencoderKL: local folder or hub id (repeatable;
                                      the variable takes several, separated by commas)
  --share       EXPLORER_SHARE=1      also open a public gradio.live link
  --concurrency EXPLORER_CONCURRENCY  events run at once (default 4)
  --max-queue   EXPLORER_MAX_QUEUE    waiting events before new ones are refused (default 256)
  --threads     EXPLORER_TORCH_THREADS  torch CPU threads per call (default 1: with several users at once, one
                                      thread each beats threads that wait on each other)
  --model-server EXPLORER_MODEL_SERVER  URL of a model service (python -m explorer.serve): this app then loads no
                                      models and sends the work there (README, "Beyond one machine"); its
                                      shared secret is read from EXPLORER_MODEL_SERVER_TOKEN

On a ZeroGPU Space (SPACES_ZERO_GPU=true, set by Hugging Face) models stay on the CPU, and heavy work (photo
reconstructions, sampling) runs on a borrowed GPU through `spaces.GPU`; slider decoding and digits stay on
the CPU. See explorer/gpu.py.
"""
from __future__ import annotations

import argparse
import os
import sys

# OpenMP threads that spin while waiting starve each other when several requests run at once on a small CPU
# (measured: a 9 ms digit reconstruction took 215-760 ms with 2 spinning threads on a busy 2-core machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import explorer.gpu  # noqa: E402,F401 - on a ZeroGPU Space this imports `spaces` before anything touches CUDA


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--host", default=env("GRADIO_SERVER_NAME", "127.0.0.1"), help="address to listen on")
    parser.add_argument("--port", type=int, default=int(env("GRADIO_SERVER_PORT", "7860")), help="port")
    parser.add_argument("--device", default=env("EXPLORER_DEVICE", "auto"), help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--checkpoints", default=env("EXPLORER_CHECKPOINTS"), help="checkpoint folder")
    parser.add_argument("--vae", action="append", default=[s for s in env("EXPLORER_VAES", "").split(",") if s],
                        metavar="PATH_OR_ID", help="extra diffusers AutoencoderKL or AutoencoderTiny (folder or hub id); repeatable")
    parser.add_argument("--share", action="store_true", default=env("EXPLORER_SHARE", "") in ("1", "true"),
                        help="create a public share link")
    parser.add_argument("--concurrency", type=int, default=int(env("EXPLORER_CONCURRENCY", "4")),
                        help="events that run at the same time (default 4)")
    parser.add_argument("--max-queue", type=int, default=int(env("EXPLORER_MAX_QUEUE", "256")),
                        help="queued events before new ones are refused (default 256)")
    parser.add_argument("--threads", type=int, default=int(env("EXPLORER_TORCH_THREADS", "1")),
                        help="torch CPU threads per call (default 1)")
    parser.add_argument("--model-server", default=env("EXPLORER_MODEL_SERVER") or None, metavar="URL",
                        help="use the model service at URL (python -m explorer.serve) instead of loading models")
    return parser.parse_args(argv)


def build(args: argparse.Namespace):
    """The service and the Blocks app for these options; extra VAEs that fail to load are reported, not fatal."""
    from explorer.messages import Refusal
    from explorer.service import ModelService
    from explorer.ui.app import build_demo

    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.model_server:  # the models run in another process; --device, --checkpoints and --vae are its own
        from explorer.remote_service import RemoteModelService

        service = RemoteModelService(args.model_server)
        print(f"models: the model service at {service.url} (device {service.where['device']})", flush=True)
        demo = build_demo(service)
        demo.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue)
        return service, demo
    service = ModelService(args.checkpoints, device=args.device)
    for source in args.vae:
        try:
            name = service.add_external_vae(source)
            print(f"extra VAE {source!r} loaded as {name!r}", flush=True)
        except Refusal as exc:  # not a loadable VAE (explorer.external_vae says why)
            print(f"warning: --vae {source}: {exc}; starting without it", file=sys.stderr, flush=True)
    demo = build_demo(service)
    demo.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue)
    return service, demo


def main(argv: list[str] | None = None) -> None:
    from explorer.ui.app import launch_kwargs

    args = parse_args(argv)
    try:
        service, demo = build(args)
    except ValueError as exc:  # e.g. --device cuda on a machine without CUDA; a model service that never answered
        sys.exit(f"error: {exc}")
    service.start_warm_up()
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, **launch_kwargs())


if __name__ == "__main__":
    main()
