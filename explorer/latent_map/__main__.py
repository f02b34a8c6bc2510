"""python -m explorer.latent_map: the interpolation measurements of explorer.latent_map.evaluate."""
from .evaluate import main

raise SystemExit(main())
