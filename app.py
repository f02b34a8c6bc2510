"""Latent Space Explorer: `python app.py` starts the Gradio app at http://127.0.0.1:7860."""
from explorer.service import ModelService
from explorer.ui.app import build_demo, launch_kwargs

service = ModelService()
demo = build_demo(service)

if __name__ == "__main__":
    service.start_warm_up()
    demo.queue(default_concurrency_limit=4, max_size=64).launch(**launch_kwargs())
