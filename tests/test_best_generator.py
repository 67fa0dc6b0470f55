"""The best generator is kept (issue 22): a run that collapses late keeps, beside its last
generator, the one of its best eval step by its quality metric; sample and evaluate take
either."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from gan_lib import get_config, sample, train
from gan_lib.cli import main
from gan_lib.errors import GanLibError
from gan_lib.metrics.evaluate import best_column
from gan_lib.run.finished import evaluate_run


def _mnist(**changes):
    fields = {"steps": 30, "eval_every": 10, "eval_samples": 100, **changes}
    return dataclasses.replace(get_config("mnist_dcgan", quick=True), **fields)


def test_the_generator_of_the_lowest_eval_value_is_kept_and_sampled_on_request(tmp_path,
                                                                             capsys):
    assert best_column(_mnist()) == "frechet_distance"
    run = train(_mnist(), tmp_path / "run", progress=False)
    fd, steps = run.history["frechet_distance"], run.history["step"]
    measured = ~np.isnan(fd)
    assert measured.sum() == 3  # steps 10, 20, 30
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    lowest = int(np.argmin(np.where(measured, fd, np.inf)))
    assert best["metric"] == "frechet_distance" and best["step"] == int(steps[lowest])
    assert best["value"] == pytest.approx(fd[lowest], rel=1e-5)  # history.csv keeps 6 digits
    assert (tmp_path / "run" / "generator_best.keras").is_file()

    last, kept = sample(run.out_dir, 8, seed=3), sample(run.out_dir, 8, seed=3, best=True)
    assert kept.shape == last.shape == (8, 28, 28, 1) and kept.dtype == np.uint8
    assert (best["step"] == 30) == np.array_equal(kept, last)  # the same weights only at 30

    # Resumed further, the kept one changes only for a lower value.
    run = train(_mnist(steps=50), run.out_dir, resume=True, progress=False)
    after = json.loads((tmp_path / "run" / "best.json").read_text())
    fd = run.history["frechet_distance"]
    assert after["value"] == pytest.approx(np.nanmin(fd), rel=1e-5)
    assert after["value"] <= best["value"]

    metrics = evaluate_run(run.out_dir, n=100, best=True, fid=False)
    assert metrics["generator"] == f"generator_best.keras (step {after['step']})"
    assert main(["sample", str(run.out_dir), "--n", "2", "--best", "--out",
                 str(tmp_path / "s.npz")]) == 0


def test_a_run_without_a_quality_metric_keeps_none_and_says_so(tmp_path):
    toy = dataclasses.replace(get_config("toy2d", quick=True), steps=20)
    assert best_column(toy) is None
    run = train(toy, tmp_path / "toy", progress=False)
    assert not (tmp_path / "toy" / "generator_best.keras").exists()
    with pytest.raises(GanLibError, match="kept no best generator"):
        sample(run.out_dir, 2, best=True)
