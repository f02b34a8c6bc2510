"""Exercises tab: layout and wiring only. Every answer is computed in explorer/exercises.py (from `compression()`
and the shipped checkpoints); every verdict, table and figure is worded in explorer/views/exercises.py.

Checks answer in the language of the page's switch (its value arrives as the `lang` input); a bad answer (empty,
not a number) gets a message, never an exception. Every result area remembers what it last showed (the answers it
checked, in a gr.State) and is worded again when the page's language changes (`Reworded`).
"""
from __future__ import annotations

import gradio as gr

from .. import exercises as ex
from ..data import load_mnist
from ..views import exercises as view
from .i18n import register, tr, tr_format, tr_pair
from .learn import LATEX

try:  # the live-training panel of exercise 1 (explorer/ui/training_panel.py), when that module is installed
    from .training_panel import build_training_panel
except ModuleNotFoundError:
    build_training_panel = None

register(view.STRINGS)

LATENT_MAP_MODEL = "latent_map.model"  # the Latent map tab's model dropdown in AppContext.components
PRIVATE = {"api_visibility": "private", "show_progress": "hidden"}
PLOT_COLUMN = 320  # px: two plots side by side on a desktop, one above the other on a phone


class Reworded:
    """A result area that follows the page's language. `render(*args, lang)` returns the value of `outputs`
    (a tuple when there are several); each trigger wired with `on` shows it and keeps `args` in a gr.State, and
    a change of `language` renders the kept `args` again in the new language (nothing shown yet: nothing
    changes)."""

    def __init__(self, render, outputs: list, language):
        self.render, self.outputs, self.language = render, outputs, language
        self.last = gr.State(None)
        language.change(self.reword, [self.last, language], outputs, **PRIVATE)

    def show(self, args: tuple, lang: str) -> tuple:
        """What `render` shows for `args`, followed by `args` for the State."""
        shown = self.render(*args, lang)
        return (*(shown if len(self.outputs) > 1 else (shown,)), list(args))

    def reword(self, last: list | None, lang: str):
        """The last result again in `lang`; no change when nothing was shown yet."""
        if last is None:
            return gr.update() if len(self.outputs) == 1 else tuple(gr.update() for _ in self.outputs)
        return self.render(*last, lang)

    def on(self, trigger, inputs: list, *fixed, progress: str = "hidden") -> None:
        """When `trigger` fires, render(*fixed, *values of inputs, lang) into the outputs (`progress`: Gradio's
        show_progress)."""
        def run(*values):
            *args, lang = values
            return self.show((*fixed, *args), lang)

        trigger(run, [*inputs, self.language], [*self.outputs, self.last], api_visibility="private",
                show_progress=progress)


def plot_pair(figures, ids: tuple[str, str], visible: bool = True) -> tuple[gr.Plot, gr.Plot]:
    """Two plots in a row that wraps to one column on a phone. Each figure carries its own title (no block label
    over it: issue 14, D3)."""
    with gr.Row():
        with gr.Column(min_width=PLOT_COLUMN):
            left = gr.Plot(figures[0] if figures else None, show_label=False, elem_id=ids[0], visible=visible)
        with gr.Column(min_width=PLOT_COLUMN):
            right = gr.Plot(figures[1] if figures else None, show_label=False, elem_id=ids[1], visible=visible)
    return left, right


def build_exercise1(service, language, ui) -> None:
    """Recipe, retraining command, recorded learning curves, the live-training panel and the KL-trend check."""
    recipe = ex.training_recipe(ex.EXERCISE1_MODEL)
    installed = ex.EXERCISE1_MODEL in service.names("vae")
    metrics = service.metrics(ex.EXERCISE1_MODEL) if installed else {}
    curves = ex.learning_curves(metrics)
    gr.Markdown(tr("ex1.task"), latex_delimiters=LATEX)
    if installed and metrics.get("params"):
        n_train = len(load_mnist("train"))  # the recipe's default data (python -m explorer.train)
        shapes = service.vae_shapes(ex.EXERCISE1_MODEL)
        gr.Markdown(tr_pair("ex1.recipe", *(view.recipe_markdown(recipe, shapes, metrics, n_train, lang)
                                            for lang in ("en", "zh"))))
    else:
        gr.Markdown(tr_format("ex1.missing", name=ex.EXERCISE1_MODEL))
    gr.Code(recipe["command"], language="shell", label=tr("ex1.command"), interactive=False, lines=1)
    plots = plot_pair(view.curves_figures(curves, "en"), ("ex1-loss-plot", "ex1-kl-plot"), visible=bool(curves.epochs))
    gr.Markdown(tr("ex1.curves_note"), visible=bool(curves.epochs))
    language.change(lambda lang: view.curves_figures(curves, lang), language, list(plots), **PRIVATE)
    if build_training_panel is not None:  # train it yourself, live (explorer/ui/training_panel.py)
        build_training_panel(service, ui)
    gr.Markdown(tr("ex1.question"))
    with gr.Row():
        choice = gr.Radio([(tr(f"ex1.{c}"), c) for c in view.TREND_CHOICES], value=None, show_label=False, scale=3)
        button = gr.Button(tr("ex.check"), variant="primary", scale=1, min_width=100)
    Reworded(lambda c, lang: view.check_trend(curves, recipe["kl_weight"], c, lang), [gr.Markdown()],
             language).on(button.click, [choice])


def build_exercise2(language) -> None:
    """Three answer boxes per question, a Check and a Show-the-answers button."""
    gr.Markdown(tr("ex2.task"), latex_delimiters=LATEX)
    boxes = []
    for i, q in enumerate(ex.QUESTIONS, start=1):
        with gr.Row(equal_height=True):
            gr.Markdown(tr_pair("ex2.question", view.question_text(i, q, "en"), view.question_text(i, q, "zh")),
                        min_height=0)
            boxes += [gr.Textbox(label=tr(f"ex2.{field}"), placeholder=tr(f"ex2.{field}_hint"), max_lines=1,
                                 min_width=110) for field in ("shape", "dims", "ratio")]
    with gr.Row():
        check = gr.Button(tr("ex.check"), variant="primary", elem_id="ex2-check")
        reveal = gr.Button(tr("ex2.reveal"), variant="secondary")
    result = Reworded(view.latents_result, [gr.Markdown()], language)
    result.on(check.click, boxes, "check")
    result.on(reveal.click, [], "reveal")


def build_exercise3(service, language) -> None:
    """The held-out table, the best-model pick and its PSNR."""
    rows = ex.heldout_table(service)
    gr.Markdown(tr("ex3.task"), latex_delimiters=LATEX)
    if not rows:
        gr.Markdown(tr("ex3.none"))
        return
    table = gr.HTML(view.heldout_html(rows, "en"))
    mnist = [r["name"] for r in rows if r["dataset"] == "mnist"]
    with gr.Row(equal_height=True):
        chosen = gr.Dropdown(mnist, value=None, label=tr("ex3.model"))
        psnr = gr.Textbox(label=tr("ex3.psnr"), placeholder="dB", max_lines=1)
        button = gr.Button(tr("ex.check"), variant="primary")
    Reworded(lambda c, p, lang: view.check_best(rows, c, p, lang), [gr.Markdown()], language).on(
        button.click, [chosen, psnr])
    language.change(lambda lang: view.heldout_html(rows, lang), language, table, **PRIVATE)


def latent_map_model_dropdown(components: dict) -> gr.Dropdown | None:
    """The Latent map tab's model dropdown (shared through AppContext.components) when it offers the 2-D VAE;
    else None."""
    block = components.get(LATENT_MAP_MODEL)
    if isinstance(block, gr.Dropdown) and any(value == ex.PLANAR_MODEL for _, value in block.choices):
        return block
    return None


def open_latent_map(tabs, model_dropdown) -> tuple:
    """(handler, outputs) for a click that opens the Latent map tab, showing the 2-D VAE when its dropdown was
    found."""
    if model_dropdown is None:
        return lambda: gr.Tabs(selected="latent_map"), [tabs]
    return lambda: (gr.Tabs(selected="latent_map"), gr.update(value=ex.PLANAR_MODEL)), [tabs, model_dropdown]


def build_exercise4(service, language, tabs, components: dict) -> None:
    """The prediction, a link to the Latent map (on the 2-D VAE) and the measurement."""
    gr.Markdown(tr_format("ex4.task", model=ex.PLANAR_MODEL), latex_delimiters=LATEX)
    open_map = gr.Button(tr("ex4.open_map"), variant="secondary", visible=tabs is not None)
    choice = gr.Radio([(tr(f"ex4.{c}"), c) for c in view.DISTRIBUTION_CHOICES], value=None,
                      label=tr("ex4.prediction"))
    measure = gr.Button(tr("ex4.measure"), variant="primary")
    if tabs is not None:
        show_map, outputs = open_latent_map(tabs, latent_map_model_dropdown(components))
        open_map.click(show_map, None, outputs, **PRIVATE)
    Reworded(lambda c, lang: view.measure_distribution(service, c, lang), [gr.Markdown()], language).on(
        measure.click, [choice], progress="full")


def reveal_rate_distortion(service, choice, lang) -> tuple:
    """Exercise 5's result: the verdict Markdown and the two sweep plots (shown once there is an answer)."""
    message, figures = view.reveal_rate_distortion(service, choice, lang)
    if figures is None:
        return message, gr.update(), gr.update()
    return message, *(gr.Plot(figure, visible=True) for figure in figures)


def build_exercise5(service, language) -> None:
    """The prediction and the measured rate-distortion answer with its figures."""
    gr.Markdown(tr_pair("ex5.task", view.task5_text("en"), view.task5_text("zh")), latex_delimiters=LATEX)
    with gr.Row():
        choice = gr.Radio([(tr(f"ex5.{c}"), c) for c in ex.PREDICTIONS], value=None, label=tr("ex5.prediction"),
                          scale=3)
        button = gr.Button(tr("ex5.reveal"), variant="primary", scale=1, min_width=100, elem_id="ex5-reveal")
    result = gr.Markdown()
    plots = plot_pair(None, ("ex5-ours-plot", "ex5-sd3-plot"), visible=False)
    Reworded(lambda c, lang: reveal_rate_distortion(service, c, lang), [result, *plots], language).on(
        button.click, [choice])


def build_exercises_tab(service, ui=None) -> None:
    """The five exercises. `ui` (explorer.ui.app.AppContext) gives the page's language switch and the Tabs;
    without it (a test building the tab alone) checks answer in English and the map button is hidden."""
    language = ui.language if ui is not None else gr.State("en")
    tabs = ui.tabs if ui is not None else None
    components = ui.components if ui is not None else {}
    gr.Markdown(tr("ex.intro"))
    for number, build in enumerate((lambda: build_exercise1(service, language, ui), lambda: build_exercise2(language),
                                    lambda: build_exercise3(service, language),
                                    lambda: build_exercise4(service, language, tabs, components),
                                    lambda: build_exercise5(service, language)), start=1):
        with gr.Accordion(tr(f"ex{number}.title"), open=number == 1):
            build()
