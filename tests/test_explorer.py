"""The latent explorer: its points, its static strips and its widgets (outside a notebook)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")

from gan_lib.errors import GanLibError  # noqa: E402
from gan_lib.viz.explorer import LatentExplorer, explore_latent  # noqa: E402


def _generator(latent_dim=6):
    return keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(4 * 4 * 3),
                             keras.layers.Activation("tanh"), keras.layers.Reshape((4, 4, 3))])


def _conditional(latent_dim=6, classes=3):
    z = keras.Input((latent_dim,))
    y = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([z, keras.layers.Embedding(classes, 2)(y)])
    x = keras.layers.Reshape((4, 4, 3))(keras.layers.Dense(48, activation="tanh")(h))
    return keras.Model([z, y], x)


def test_points_walk_from_z0_to_z1_and_move_along_orthonormal_directions():
    explorer = LatentExplorer(_generator(), 6, seed=1, directions=3)
    d = explorer.directions
    np.testing.assert_allclose(d @ d.T, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(explorer.latent(0.0), explorer.z0, rtol=1e-6)
    np.testing.assert_allclose(explorer.latent(1.0), explorer.z1, rtol=1e-6)
    moved = explorer.latent(0.0, [2.0, 0.0, -1.0]) - explorer.latent(0.0)
    np.testing.assert_allclose(d @ moved, [2.0, 0.0, -1.0], atol=1e-5)
    with pytest.raises(GanLibError, match="directions must be between 1 and latent_dim"):
        LatentExplorer(_generator(), 6, directions=7)


def test_static_strips_have_one_row_per_view():
    views = LatentExplorer(_generator(), 6, directions=2).strips(n=5)
    assert list(views) == ["walk z0 -> z1", "direction 1, -3 to +3", "direction 2, -3 to +3"]
    assert all(v.shape == (5, 4, 4, 3) for v in views.values())
    assert np.abs(views["walk z0 -> z1"]).max() <= 1.0
    conditional = LatentExplorer(_conditional(), 6, directions=1, num_classes=3)
    every = conditional.strips(n=4, label=2)["every class, same z"]
    assert every.shape == (3, 4, 4, 3)
    assert not np.allclose(every[0], every[1])  # the label changes the image
    with pytest.raises(GanLibError, match="needs a label in 0..2"):
        conditional.images(np.zeros((1, 6)), label=None)


def test_explore_latent_falls_back_to_strips_and_builds_widgets(monkeypatch):
    import matplotlib.pyplot as plt

    plt.close("all")
    explore_latent(_generator(), 6, interactive=False, directions=2)
    axes = plt.gcf().axes  # Agg: show() leaves the figure open
    assert [a.get_title() for a in axes] == ["walk z0 -> z1", "direction 1, -3 to +3",
                                             "direction 2, -3 to +3"]
    plt.close("all")

    widgets = pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects: shown.extend(objects))
    explore_latent(_conditional(), 6, class_names=["a", "b", "c"], interactive=True, label=1)
    (box,) = shown
    assert isinstance(box, widgets.VBox)
    controls = {c.description: c for c in box.children if hasattr(c, "description")}
    assert set(controls) == {"z0 → z1", "direction 1", "direction 2", "direction 3", "class"}
    assert controls["class"].value == 1
    controls["class"].value = 2  # a new class redraws without an error
    controls["direction 1"].value = 1.5
