"""Pictures: plots and image grids (``plots``, re-exported here: ``viz.show_images``), the GIF
of a run (``gif``), walks through the latent space (``latent``) and the interactive explorer
(``explorer``)."""

from gan_lib.viz.plots import (
    decision_surface,
    figure_to_array,
    image_grid,
    plot_2d,
    plot_history,
    plt,
    points_limits,
    show_images,
    toy_frame,
)

__all__ = ["image_grid", "show_images", "plot_history", "points_limits", "decision_surface",
           "plot_2d", "toy_frame", "figure_to_array", "plt"]
