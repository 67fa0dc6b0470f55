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


def test_toy_frame_places_points_and_colours_as_plot_2d_does():
    import matplotlib

    lim = (-2.0, 2.0, -1.0, 3.0)
    surface = np.zeros((8, 8))
    surface[-1] = 1.0  # D says "real" on the top row (ymax), "fake" elsewhere
    real = np.array([[-2.0, 3.0]])  # top-left corner
    fake = np.array([[0.0, 1.0], [50.0, 50.0]])  # the centre, and one far outside
    frame = viz.toy_frame(real, fake, surface, lim, size=81)
    assert frame.shape == (81, 81, 3) and frame.dtype == np.uint8

    blue = matplotlib.colormaps["coolwarm"](0.0)[:3]
    background = 255 - 0.55 * (255 - np.array(blue) * 255)  # coolwarm at 55 % over white
    np.testing.assert_allclose(frame[60, 5], background, atol=2)  # uint8 steps
    orange = np.array([255, 127, 14])
    np.testing.assert_allclose(frame[40, 40], 0.2 * background + 0.8 * orange, atol=2)
    assert np.abs(frame[40, 43].astype(float) - background).max() <= 2  # 3x3 marker only
    # the real point at (xmin, ymax): black at 35 % over the red top row
    red = 255 - 0.55 * (255 - np.array(matplotlib.colormaps["coolwarm"](1.0)[:3]) * 255)
    np.testing.assert_allclose(frame[0, 0], 0.65 * red, atol=2)  # uint8 steps


def test_decision_surface_is_d_probability_on_the_grid():
    d = build_mlp2d_discriminator()
    lim = (-1.0, 1.0, -2.0, 2.0)
    surface = viz.decision_surface(d, lim, resolution=5)
    logit = np.asarray(d(np.array([[1.0, -2.0]], np.float32), training=False))[0, 0]
    assert surface.shape == (5, 5)
    np.testing.assert_allclose(surface[0, -1], 1 / (1 + np.exp(-logit)), rtol=1e-5)  # (xmax, ymin)
