"""Trainer modules, one per checkpoint kind (explorer.recipes.TRAINERS): vae, classifier, diffusion. Each
exposes `build_checkpoint(recipe, out_dir, **options) -> metrics`, `evaluate_checkpoint(out_dir, name,
**options) -> metrics` (re-measure a saved checkpoint, metrics.json updated through explorer.checkpoint) and
`summary_row(name, metrics) -> str`. They never import the command line (explorer.train) that calls them."""
