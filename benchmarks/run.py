"""gan_lib's speed benchmarks: one command, Markdown tables out, two ratios on the last line.

    python benchmarks/run.py                     # ~8 min on a 2-core CPU
    python benchmarks/run.py --options           # + steps_per_execution, XLA, mixed precision
    python benchmarks/run.py --time-to-quality   # + mnist_dcgan vs the TF tutorial (~11 min)

The last line reads ``overhead_ratio=<x> pipeline_ratio=<y>``:
overhead_ratio: gan_lib's loop / a bare tf.function loop, steps/s, mnist_dcgan at its defaults;
pipeline_ratio: cat-face pipeline images/s (cached) / the fastest image config's step images/s.
See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

SECTIONS = ("throughput", "overhead", "pipeline", "memory")


def _throughput(results: dict) -> None:
    import throughput

    rows = throughput.all_configs()
    results["throughput"] = rows
    print(common.table(
        ["config", "batch", "ms/step (CPU)", "images/s (CPU)", "timed steps", "GPU", "note"],
        [[r["config"], r["batch"], f"{r['ms_per_step']:.1f}", f"{r['images_per_s']:.1f}",
          r["steps"], "not measured", r["note"]] for r in rows]))


def _overhead(results: dict) -> None:
    import overhead

    rows = [overhead.compare("mnist_dcgan", seconds=6.0), overhead.compare("toy2d", seconds=2.0)]
    results["overhead"] = rows
    print(common.table(
        ["config", "bare steps/s", "gan_lib steps/s", "+ metrics & checkpoints", "ratio",
         "steps timed (bare / gan_lib)"],
        [[r["config"], f"{r['bare_steps_per_s']:.1f}", f"{r['gan_lib_steps_per_s']:.1f}",
          f"{r['gan_lib_amortised_steps_per_s']:.1f} (eval {r['eval_s']:.2f} s, "
          f"checkpoint {r['checkpoint_s']:.2f} s)", f"{r['ratio']:.3f}",
          f"{r['steps']['bare']} / {r['steps']['gan_lib']}"] for r in rows]))


def _pipeline(results: dict) -> None:
    import pipeline

    r = pipeline.cat_pipeline(common.data_root())
    results["pipeline"] = r
    print(common.table(
        ["cat faces, batch 128, flips", "images/s"],
        [["decode the folder with PIL (builds gan_lib's .npy cache)", f"{r['pil_decode']:.0f}"],
         ["image_dataset (registry path), first epoch", f"{r['array_first_epoch']:.0f}"],
         ["image_dataset (registry path), cached epochs", f"{r['array_cached']:.0f}"]]))


def _memory(results: dict) -> None:
    import memory

    cats = memory.cats64_run()
    gif = memory.gif_export()
    results["memory"] = {"cats64_mib": cats, "gif_mib": gif}
    print(common.table(
        ["process", "peak RSS (MiB)"],
        [["cats64 run: batch 128, 1 step, frames, checkpoint, outputs", f"{cats:.0f}"]]
        + [[f"write_gif, {n} frames of 530x530 from files" if n else
            "import gan_lib.viz.gif only (baseline)", f"{mib:.0f}"] for n, mib in gif.items()]))


def _options(results: dict) -> None:
    import throughput

    from gan_lib import get_config

    rows = []
    for name, ks in (("toy2d", (1, 5, 10)), ("mnist_dcgan", (1, 5))):
        speeds = throughput.steps_per_execution(name, ks)
        rows += [[name, f"steps_per_execution={k}", f"{ms:.2f}"] for k, ms in speeds.items()]
    for name in ("toy2d", "mnist_dcgan", "cats64"):
        r = throughput.jit_compile(name)
        rows += [[name, "jit_compile=False", f"{r['plain']:.2f}"],
                 [name, f"jit_compile=True (compile+1st step {r['xla_warmup_s']:.0f} s)",
                  f"{r['xla']:.2f}"]]
    for name in ("mnist_dcgan",):
        config = dataclasses.replace(get_config(name, quick=False), mixed_precision=True)
        r = throughput.step_speed(config)
        rows.append([name, "mixed_precision=True (float16 on a CPU: no tensor cores)",
                     f"{r['ms_per_step']:.2f}"])
    results["options"] = rows
    print(common.table(["config", "option", "ms/step (CPU)"], rows))


def _time_to_quality(results: dict) -> None:
    import quality

    speeds = {r["config"]: r["ms_per_step"] for r in results.get("throughput", [])}
    rows = [quality.time_to_score(name, speeds.get(name, default))
            for name, default in (("mnist_dcgan", 100.0), ("mnist_tutorial", 5000.0))]
    results["time_to_quality"] = rows
    print(common.table(
        ["recipe", "seconds to classifier score 8", "steps then", "best score in 300 s"],
        [[r["config"], f"{r['reached_s']:.0f}" if r["reached_s"] is not None
          else "not reached in 300 s", r["reached_step"] or f"({r['steps']} run)",
          f"{r['best_score']:.2f}"] for r in rows]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--options", action="store_true",
                        help="also time steps_per_execution, jit_compile and mixed precision")
    parser.add_argument("--time-to-quality", action="store_true",
                        help="also race mnist_dcgan against mnist_tutorial to score 8 (300 s each)")
    args = parser.parse_args(argv)
    common.data_root()
    print(f"# gan_lib benchmarks: {common.machine()}", flush=True)
    results: dict = {}
    sections = [s for s in args.only.split(",") if s]
    sections += ["options"] * args.options + ["time_to_quality"] * args.time_to_quality
    for section in sections:
        start = time.perf_counter()
        print(f"\n## {section}", flush=True)
        globals()[f"_{section}"](results)
        print(f"({section}: {time.perf_counter() - start:.0f} s)", flush=True)
    print(f"\n# done: {common.machine()}")
    overhead = next((r["ratio"] for r in results.get("overhead", [])
                     if r["config"] == "mnist_dcgan"), float("nan"))
    images = [r for r in results.get("throughput", []) if r["config"] != "toy2d"]
    fastest = max((r["images_per_s"] for r in images), default=float("nan"))
    pipeline_rate = results.get("pipeline", {}).get("array_cached", float("nan"))
    print(f"overhead_ratio={overhead:.3f} pipeline_ratio={pipeline_rate / fastest:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
