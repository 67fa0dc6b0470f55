import numpy as np
from PIL import Image

from gan_lib.run.frames import FrameStore
from gan_lib.viz.gif import write_gif


def _frame(i: int, size: int = 32) -> np.ndarray:
    frame = np.zeros((size, size, 3), np.uint8)
    frame[..., 0] = (i * 37) % 256  # a distinct red level per frame
    frame[i % size, :, 1] = 255
    return frame


def test_gif_of_many_streamed_frames_is_valid_and_complete(tmp_path):
    n = 300
    count = write_gif((_frame(i) for i in range(n)), tmp_path / "a.gif", fps=10, hold_last=2)
    assert count == n
    gif = Image.open(tmp_path / "a.gif")
    assert gif.n_frames == n
    assert gif.info["duration"] == 100 and gif.info["loop"] == 0
    for i in range(n):  # every frame decodes to its input, in order
        gif.seek(i)
        decoded = np.asarray(gif.convert("RGB")).astype(int)
        assert np.abs(decoded - _frame(i)).max() <= 2, i
    assert gif.info["duration"] == 300  # the last frame held 2 frame-times longer
    import imageio.v3 as iio
    assert iio.imread(tmp_path / "a.gif", index=None).shape == (n, 32, 32, 3)


def test_gif_from_frame_files_keeps_earlier_frames(tmp_path):
    store = FrameStore(tmp_path / "frames")
    for step in (0, 100, 200):
        store.save(step, _frame(step // 100))
    assert store.steps() == [0, 100, 200]
    assert store.prune_after(100) == 1 and store.steps() == [0, 100]
    store.save(300, _frame(3))
    write_gif(store.paths(), tmp_path / "p.gif", hold_last=0)
    assert Image.open(tmp_path / "p.gif").n_frames == 3


def test_an_empty_frame_list_leaves_the_old_gif_alone(tmp_path):
    write_gif([_frame(0), _frame(1)], tmp_path / "g.gif", hold_last=0)
    before = (tmp_path / "g.gif").read_bytes()
    assert write_gif([], tmp_path / "g.gif") == 0
    assert (tmp_path / "g.gif").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.gif"]  # no temporary file left


def test_frames_of_another_size_are_scaled_to_the_first_ones(tmp_path):
    flat = np.full((64, 64, 3), (200, 40, 40), np.uint8)  # e.g. frames an older version drew
    write_gif([_frame(1), flat, _frame(2)], tmp_path / "m.gif", hold_last=0)
    gif = Image.open(tmp_path / "m.gif")
    assert gif.n_frames == 3 and gif.size == (32, 32)
    gif.seek(1)
    np.testing.assert_allclose(np.asarray(gif.convert("RGB")), np.broadcast_to(flat[:32, :32],
                                                                            (32, 32, 3)), atol=2)
