"""The 64x64 metrics: OpenCV's face detectors on real, noise and flat images; colour drift against
NumPy; the clear error without a cascade classifier, gan_lib's own cascades where OpenCV 5 ships
none, and the repair the lessons run on Colab; `evaluate` on a cats and a faces run (detection,
colour, KID and memorisation; the encoder itself is tested in test_encoder.py)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gan_lib.errors import GanLibError
from gan_lib.metrics import detect


@pytest.fixture(scope="module")
def real(request):
    import os

    root = os.environ.get("GAN_LIB_DATA")
    if not root or not os.path.isdir(root):
        pytest.skip("GAN_LIB_DATA is not set to the shared datasets folder")
    from gan_lib.data import load_images

    return {name: load_images(name, root, 64)[0][:300] for name in ("cat_faces", "faces")}


def test_detectors_find_real_faces_and_not_noise(real):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (200, 64, 64, 3), dtype=np.uint8)
    flat = np.full((20, 64, 64, 3), 128, np.uint8)
    for name, low in (("cat_faces", 0.5), ("faces", 0.8)):
        assert detect.detection_rate(real[name], name) > low
        assert detect.detection_rate(noise, name) < 0.03
        assert detect.detection_rate(flat, name) == 0.0
    # floats in [-1, 1] are read as images, the same as their uint8 values
    floats = real["faces"][:50].astype(np.float32) / 127.5 - 1.0
    assert detect.detection_rate(floats, "faces") == detect.detection_rate(real["faces"][:50],
                                                                           "faces")


def test_colour_shift_is_the_largest_channel_mean_difference():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 200, (10, 8, 8, 3), dtype=np.uint8)
    b = rng.integers(20, 256, (12, 8, 8, 3), dtype=np.uint8)
    expected = np.abs(a.reshape(-1, 3).mean(0) - b.reshape(-1, 3).mean(0)).max()
    np.testing.assert_allclose(detect.colour_shift(a, b), expected)
    assert detect.colour_shift(a, a) == 0.0


def test_without_a_cascade_classifier_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # no OpenCV at all
    with pytest.raises(GanLibError, match=r"needs OpenCV: pip install 'opencv-python-headless"):
        detect.load_detector("faces")
    fake_cv2 = type(sys)("cv2")  # OpenCV 5 without contrib: no CascadeClassifier, no cascades
    fake_cv2.__version__ = "5.0.0"
    monkeypatch.setitem(sys.modules, "cv2", fake_cv2)
    with pytest.raises(GanLibError, match=r"OpenCV \(5\.0\.0\) has no CascadeClassifier.*"
                                          r"opencv-contrib-python-headless==5\.0\.0\.\*"):
        detect.load_detector("cat_faces")
    with pytest.raises(GanLibError, match="no face detector for 'mnist'"):
        detect.load_detector("mnist")


def test_shipped_cascades_detect_as_opencvs_own(real, monkeypatch, tmp_path):
    """OpenCV 5's contrib build has CascadeClassifier but no cascade files: gan_lib's copies
    (checked against their SHA-256) must find the same faces as the files of OpenCV 4."""
    import cv2

    own = {name: detect.detection_rate(real[name][:150], name) for name in real}
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path))  # an OpenCV without the files
    for name in real:
        assert detect.cascade_file(detect.CASCADES[name], str(tmp_path)).parent != tmp_path
        assert detect.detection_rate(real[name][:150], name) == own[name]


def test_a_damaged_shipped_cascade_is_refused(monkeypatch, tmp_path):
    import gzip

    (tmp_path / "haarcascade_frontalcatface.xml.gz").write_bytes(gzip.compress(b"<opencv/>"))
    monkeypatch.setattr(detect, "WEIGHTS", tmp_path)
    with pytest.raises(GanLibError, match="damaged"):
        detect.cascade_file("haarcascade_frontalcatface.xml", None)


def _fake_python(tmp_path, answer_before, answer_after=None):
    """A stand-in interpreter: answers the OpenCV probe, and 'installs' by flipping its answer."""
    marker = tmp_path / "installed"
    script = tmp_path / "python"
    script.write_text(f"""#!/bin/sh
if [ "$1" = "-m" ]; then touch {marker}; echo "$@" > {tmp_path}/pip_args; exit 0; fi
case "$2" in *hasattr*) ;; *) echo 5.0.0; exit 0;; esac
if [ -e {marker} ]; then echo "{answer_after}"; else echo "{answer_before}"; fi
""")
    script.chmod(0o755)
    return str(script)


def test_opencv_problem_and_repair(tmp_path):
    assert detect.opencv_problem() is None  # this machine: OpenCV 4 with its cascades
    assert detect.repair_opencv().startswith("face detector: ready")
    python = _fake_python(tmp_path, "5.0.0 False", "5.0.0 True")
    assert "has no CascadeClassifier" in detect.opencv_problem(python)
    told = detect.repair_opencv(install=False, python=python)
    assert "will be missing" in told and "opencv-contrib-python-headless==5.0.0.*" in told
    assert not (tmp_path / "installed").exists()
    done = detect.repair_opencv(install=True, python=python)
    assert "installed opencv-contrib-python-headless==5.0.0.*, it works now" in done
    assert "install --quiet opencv-contrib-python-headless==5.0.0.*" in (
        tmp_path / "pip_args").read_text()
    stuck = _fake_python(tmp_path / "x", "5.0.0 False", "5.0.0 False") if (
        tmp_path / "x").mkdir() is None else None
    assert "did not fix it" in detect.repair_opencv(install=True, python=stuck)
    for stderr, said in (("ModuleNotFoundError: No module named 'cv2'", "not installed"),
                         ("ImportError: libGL.so.1: cannot open shared object file",
                          "does not import (ImportError: libGL.so.1")):
        broken = tmp_path / f"broken{len(said)}"
        calls = tmp_path / f"calls{len(said)}"
        broken.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho "{stderr}" >&2\nexit 1\n')
        broken.chmod(0o755)
        assert said in detect.opencv_problem(str(broken))
        assert "will be missing" in detect.repair_opencv(install=True, python=str(broken))
        assert "-m pip" not in calls.read_text()  # nothing is installed over a broken OpenCV


@pytest.mark.parametrize("config", ["cats64", "cats64_fast", "faces64"])
def test_evaluate_reports_the_detection_rate_of_a_64x64_run(config, real, tmp_path):
    """From the terminal for one recipe (a process each for train and evaluate), in this process
    for the other two: the same functions, without two TensorFlow start-ups a recipe."""
    if config == "cats64_fast":
        def cli(*args):
            done = subprocess.run([sys.executable, "-m", "gan_lib", *args], capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-2000:]
            return done.stdout

        cli("train", config, "--quick", "--no-progress", "--out", str(tmp_path / "run"))
        out = cli("evaluate", str(tmp_path / "run"), "--n", "40")
    else:
        from gan_lib import get_config, train
        from gan_lib.run.finished import evaluate_run

        train(get_config(config, quick=True), tmp_path / "run", progress=False)
        out = " ".join(evaluate_run(tmp_path / "run", n=40))
    result = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in ("detection_rate", "real_detection_rate", "colour_shift"):
        assert key in out and 0.0 <= result[key] <= 255.0
    assert result["real_detection_rate"] > result["detection_rate"]  # 6 steps: no faces yet
    assert result["colour_shift"] > 0.0
    # the encoder's distance: 6 steps of training are far from real images, real ones are not
    assert "kid" in out and result["kid"] > 5 * abs(result["real_kid"])
    # no copies after 6 steps (copies give ~0; flat grey squares sit nearer the dullest training
    # images than real images do to theirs, ~0.5); the picture of the pairs is there
    assert result["nn_ratio"] > 0.2 and result["nn_distance"] > 0.2 * result["real_nn_distance"]
    assert (tmp_path / "run" / "nearest_neighbours.png").is_file()


def test_the_image_metrics_run_without_tensorflow(tmp_path):
    """Samples made where TensorFlow is not (a GPU machine under Keras' JAX backend) are scored
    there: the detector, the copy check and the uint8 conversion import no TensorFlow."""
    code = (
        "import sys, json, numpy as np\n"
        "sys.modules['tensorflow'] = None  # any import of it now fails\n"
        "from gan_lib.data.images import unscale_images\n"
        "from gan_lib.metrics.detect import detection_rate\n"
        "from gan_lib.metrics.evaluate import memorisation\n"
        "rng = np.random.default_rng(0)\n"
        "real = rng.integers(0, 256, (40, 64, 64, 3), dtype=np.uint8)\n"
        "fake = rng.uniform(-1, 1, (8, 64, 64, 3)).astype(np.float32)\n"
        "copy = real[:8].astype(np.float32) / 127.5 - 1\n"
        "print(json.dumps([detection_rate(unscale_images(fake), 'faces'),\n"
        "                  memorisation(fake, real, probes=8)['nn_ratio'],\n"
        "                  memorisation(copy, real, probes=8)['nn_ratio']]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    rate, noise_ratio, copy_ratio = json.loads(done.stdout.splitlines()[-1])
    assert rate == 0.0  # no face in noise
    assert noise_ratio > 0.5 and copy_ratio == 0.0  # copies of training images are found


def test_the_metrics_scale_images_as_the_pipeline_does():
    from gan_lib.data.pipeline import scale_images

    images = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=-1)
    np.testing.assert_array_equal(detect.unit_range(images), scale_images(images).numpy())
