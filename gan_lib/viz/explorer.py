"""Explore a generator's latent space by hand: sliders on a few directions of z, a walk between two
samples and, for a conditional generator, a class picker.

``explore_latent`` shows ipywidgets controls in Colab and Jupyter. Where ipywidgets is missing (or
with ``interactive=False``) it draws the same views as static strips: each slider's range as a row
of images, the walk as a row, and one image per class.
"""

from __future__ import annotations

import numpy as np

from gan_lib.errors import GanLibError
from gan_lib.viz.latent import slerp


class LatentExplorer:
    """The state behind the controls: two endpoints, a few orthonormal directions, one image.

    Args:
        generator: a Keras generator (``[z]`` or ``[z, labels]`` in, images in [-1, 1] out).
        latent_dim: size of z.
        seed: draws the endpoints and the directions.
        directions: how many sliders (random orthonormal directions of z).
        num_classes: for a conditional generator, the number of classes; else None.
    """

    def __init__(self, generator, latent_dim: int, *, seed: int = 0, directions: int = 3,
                 num_classes: int | None = None):
        if not 1 <= directions <= latent_dim:
            raise GanLibError(f"directions must be between 1 and latent_dim ({latent_dim}), "
                              f"got {directions}")
        rng = np.random.default_rng(seed)
        self.generator, self.num_classes = generator, num_classes
        self.z0, self.z1 = rng.standard_normal((2, latent_dim))
        q, _ = np.linalg.qr(rng.standard_normal((latent_dim, directions)))
        self.directions = q.T  # [directions, latent_dim], orthonormal rows

    def latent(self, t: float = 0.0, offsets=None) -> np.ndarray:
        """The point ``t`` of the way from z0 to z1 (slerp), moved by ``offsets[i]`` along
        direction i. A unit direction's coordinate of N(0, I) noise is N(0, 1), so offsets of
        a few units stay among the inputs the generator was trained on."""
        z = slerp(self.z0, self.z1, float(t))
        if offsets is not None:
            z = z + np.asarray(offsets, np.float64) @ self.directions
        return z.astype(np.float32)

    def images(self, latents: np.ndarray, label: int | None = None) -> np.ndarray:
        """The generator's images of ``latents`` ``[n, latent_dim]``, float32 in [-1, 1]."""
        latents = np.asarray(latents, np.float32)
        inputs = latents
        if self.num_classes is not None:
            if label is None or not 0 <= int(label) < self.num_classes:
                raise GanLibError(f"a conditional generator needs a label in "
                                  f"0..{self.num_classes - 1}, got {label!r}")
            inputs = [latents, np.full(len(latents), int(label), np.int32)]
        return np.asarray(self.generator(inputs, training=False), np.float32)

    def strips(self, n: int = 7, span: float = 3.0, label: int | None = None) -> dict:
        """The static views: the walk z0 -> z1, each direction from -span to +span, and for a
        conditional generator z0 in every class. Each value is float32 ``[n or classes, ...]``."""
        views = {"walk z0 -> z1": self.images(
            np.stack([self.latent(t) for t in np.linspace(0, 1, n)]), label)}
        eye = np.eye(len(self.directions))
        for i in range(len(self.directions)):
            views[f"direction {i + 1}, -{span:g} to +{span:g}"] = self.images(
                np.stack([self.latent(0.0, s * eye[i]) for s in np.linspace(-span, span, n)]),
                label)
        if self.num_classes is not None:
            z = np.repeat(self.latent(0.0)[None], self.num_classes, axis=0)
            views["every class, same z"] = np.asarray(self.generator(
                [z, np.arange(self.num_classes, dtype=np.int32)], training=False), np.float32)
        return views


def _widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def explore_latent(generator, latent_dim: int, *, seed: int = 0, directions: int = 3,
                   class_names: list[str] | None = None, interactive: bool | None = None,
                   label: int = 0) -> None:
    """Show the explorer: ipywidgets controls, or static strips.

    Args:
        generator, latent_dim, seed, directions: see ``LatentExplorer``.
        class_names: for a conditional generator, one name per class (a class picker).
        interactive: None: ipywidgets when they are installed and a notebook kernel runs;
            False: static strips.
        label: the class shown first (conditional generators).
    """
    num_classes = len(class_names) if class_names else None
    explorer = LatentExplorer(generator, latent_dim, seed=seed, directions=directions,
                              num_classes=num_classes)
    if interactive is None:
        interactive = _widgets_available()
    if interactive:
        _show_widgets(explorer, class_names, label)
    else:
        _show_strips(explorer, label if num_classes else None)


def _show_strips(explorer: LatentExplorer, label: int | None) -> None:
    """``explorer.strips`` as one Matplotlib figure, a row per strip."""
    import matplotlib.pyplot as plt

    from gan_lib import viz

    views = explorer.strips(label=label)
    fig, axes = plt.subplots(len(views), 1, figsize=(10, 1.6 * len(views)))
    for ax, (title, row) in zip(np.atleast_1d(axes), views.items()):
        ax.imshow(viz.image_grid(row, ncols=len(row)))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    plt.tight_layout()
    plt.show()


def _show_widgets(explorer: LatentExplorer, class_names: list[str] | None, label: int) -> None:
    """A walk slider, one slider per direction (and a class picker): one image, redrawn."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from gan_lib import viz

    sliders = [widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.25,
                                   description=f"direction {i + 1}")
               for i in range(len(explorer.directions))]
    walk = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="z0 → z1")
    controls = [walk, *sliders]
    picker = None
    if class_names:
        picker = widgets.Dropdown(options=[(name, i) for i, name in enumerate(class_names)],
                                  value=label, description="class")
        controls.append(picker)
    out = widgets.Output()

    def draw(_=None):
        z = explorer.latent(walk.value, [s.value for s in sliders])
        image = explorer.images(z[None], picker.value if picker else None)[0]
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(3, 3))
            ax.imshow(viz.image_grid(image[None], ncols=1))
            ax.axis("off")
            plt.show()

    for control in controls:
        control.observe(draw, names="value")
    display(widgets.VBox([*controls, out]))
    draw()
