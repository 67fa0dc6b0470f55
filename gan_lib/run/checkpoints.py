"""A run's checkpoints (``DIR/checkpoints``): found, verified, repaired, and cut back.

``tf.train.CheckpointManager`` writes them (``RunFolder.checkpoint_manager``); this module reads
them (``restore``) and decides which one a resumed session may trust: one whose index and every
tensor read back, and after a divergence one older than the first non-finite loss.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from google.protobuf import text_format

from gan_lib.atomic import atomic_path
from gan_lib.errors import GanLibError


def restore(checkpoint, prefix: str):
    """``checkpoint`` (``tf.train.Checkpoint(gan=..., fixed_noise=...)``) read from ``prefix``;
    returns the load status (``assert_existing_objects_matched`` and the like).

    Checkpoints written before 2026-12-05 keep the GAN's random generator (``GAN.rng``) under
    its old name, "noise": those are read through a view of the GAN with that name.
    """
    import tensorflow as tf

    if not any(name.startswith("gan/noise/") for name, _ in tf.train.list_variables(prefix)):
        return checkpoint.restore(prefix)
    gan = checkpoint.gan
    old = tf.Module()  # the GAN's checkpointed parts, the random generator named as it was
    for name, child in tf.train.TrackableView(gan).children(gan).items():
        setattr(old, "noise" if name == "rng" else name, child)
    return tf.train.Checkpoint(gan=old, fixed_noise=checkpoint.fixed_noise).restore(prefix)


def _unreadable(prefix: str) -> str | None:
    """Why the checkpoint ``prefix`` cannot be read in full (index and every tensor), or None."""
    import tensorflow as tf

    try:
        reader = tf.train.load_checkpoint(prefix)
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)  # checks the tensor's checksum
    except (tf.errors.OpError, ValueError) as e:
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return None


def _state(folder: Path):
    """The checkpoint state of ``folder`` as (names oldest first, timestamps, proto) or None."""
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(str(folder))
    if state is None:
        return None
    # get_checkpoint_state makes paths absolute; the manager writes them relative to folder
    names = [Path(p).name for p in state.all_model_checkpoint_paths
             or [state.model_checkpoint_path]]
    return names, list(state.all_model_checkpoint_timestamps), state


def _keep_only(folder: Path, state, count: int) -> str | None:
    """Delete all but the oldest ``count`` checkpoints and rewrite the state file to match."""
    names, times, proto = state
    for name in names[count:]:
        for file in folder.glob(name + ".*"):
            file.unlink(missing_ok=True)
    if not count:
        (folder / "checkpoint").unlink(missing_ok=True)
        return None
    # The state file is a CheckpointState proto in text form: the same proto with the kept
    # names, relative to the folder as the manager writes them, replaced atomically
    del proto.all_model_checkpoint_paths[:], proto.all_model_checkpoint_timestamps[:]
    proto.model_checkpoint_path = names[count - 1]
    proto.all_model_checkpoint_paths.extend(names[:count])
    proto.all_model_checkpoint_timestamps.extend(times[:count])
    with atomic_path(folder / "checkpoint") as tmp:
        tmp.write_text(text_format.MessageToString(proto))
    return str(folder / names[count - 1])


def repair_checkpoints(folder: str | os.PathLike) -> str | None:
    """Make the checkpoint state of ``folder`` name its newest checkpoint that reads in full.

    TensorFlow rewrites a checkpoint's ``.index`` in place when a checkpoint number is saved
    again, so a kill at that moment (or a half-synced copy of the folder) can leave the
    checkpoint the state names unreadable. Broken ones are deleted with a warning and the
    state file is rewritten to name the newest good one.

    Returns:
        The prefix of the checkpoint to resume from, or None if ``folder`` has no state file.
    Raises:
        GanLibError: no checkpoint the state lists can be read.
    """
    folder = Path(folder)
    state = _state(folder)
    if state is None:
        return None
    names = state[0]
    broken = []
    for name in reversed(names):  # newest first
        problem = _unreadable(str(folder / name))
        if problem is None:
            break
        broken.append(f"{name} ({problem})")
    else:
        raise GanLibError(f"no checkpoint in {folder} can be read: {'; '.join(broken)}. "
                          "This run cannot be resumed; train into a new --out folder")
    if not broken:
        return str(folder / name)
    good = _keep_only(folder, state, len(names) - len(broken))
    warnings.warn(f"{folder}: resuming from {Path(good).name}; the newer {'; '.join(broken)} "
                  "was cut off while being written (a killed session?) and has been deleted",
                  stacklevel=2)
    return good


def keep_checkpoints_before(folder: str | os.PathLike, step: int) -> str | None:
    """Delete the checkpoints of ``folder`` at ``step`` or later; returns the newest left.

    For divergence: a checkpoint at step c holds the weights after step c, and only a finite
    loss at step c + 1 shows they are sound, so checkpoints from the last finite history row
    on are not known to be good; a resume must not start from them.
    """
    folder = Path(folder)
    state = _state(folder)
    if state is None:
        return None
    numbers = [int(n.rpartition("-")[2]) for n in state[0]]
    return _keep_only(folder, state, sum(n < step for n in numbers))
