import numpy as np

from gan_lib import viz
from gan_lib.models import build_mlp2d_discriminator


def test_image_grid_tiles_in_row_major_order():
    images = np.stack([np.full((4, 4, 1), v, np.uint8) for v in (0, 100, 200)])
    grid = viz.image_grid(images, ncols=2, pad=1)
    assert grid.shape == (1 + 2 * 5, 1 + 2 * 5, 3) and grid.dtype == np.uint8
    assert (grid[1:5, 1:5] == 0).all()
    assert (grid[1:5, 6:10] == 100).all()
    assert (grid[6:10, 1:5] == 200).all()
    assert (grid[6:10, 6:10] == 255).all()  # the empty cell stays white


def test_image_grid_unscales_float_images():
    grid = viz.image_grid(np.full((1, 2, 2, 3), -1.0, np.float32), pad=0)
    assert (grid == 0).all()


def test_plots_render_to_pixels():
    rng = np.random.default_rng(0)
    fig = viz.plot_2d(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)),
                      build_mlp2d_discriminator(), title="t")
    frame = viz.figure_to_array(fig)
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.std() > 0
    history = {"step": np.arange(1, 11) * 10.0,
               **{k: rng.uniform(size=10) for k in ("d_loss_real", "d_loss_fake", "g_loss",
                                                      "d_real", "d_fake", "d_acc_real",
                                                      "d_acc_fake")}}
    fig = viz.plot_history(history, smooth=3)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 3  # D on real, D on fake, G
