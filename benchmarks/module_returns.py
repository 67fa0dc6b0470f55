"""How often does following a training run through gan_lib's code send a reader back to a
module they already left? (issue 29's readability count)

Traces one short quick-mode ``gan_lib.train`` (Python's profiler hook, gan_lib's own functions
only) and counts two things:
- **call-backs**: functions called from another module while their own module is still on the
  call stack below (A calls B, B calls back into A): a reader who follows the calls down must
  reopen a file they are in the middle of. Each such function is counted once.
- **returns in reading order**: each function kept at its *first* call (the order in which a
  reader meets the code when they follow the config from ``train()`` through the first step and
  the first periodic jobs); consecutive functions of one module are one visit, and a visit to a
  module visited before is a return.
Module bodies run by imports and the package's lazy-attribute hook (``__getattr__``) are not
calls a reader follows, and are left out.

    python benchmarks/module_returns.py [--recipe faces64_fast] [--steps 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def trace(recipe: str, steps: int) -> tuple[list[tuple[str, str]], list[str]]:
    """((module, function) of each gan_lib function in the order of its first call,
    the call-backs: "caller module -> module.function", each once)."""
    os.environ["GAN_LIB_QUICK"] = "1"
    import dataclasses

    import gan_lib

    config = dataclasses.replace(gan_lib.get_config(recipe), steps=steps)
    seen: dict[tuple[str, str], None] = {}
    callbacks: dict[str, None] = {}
    stack: list[str] = []  # the modules of the gan_lib frames now running

    def hook(frame, event, arg):
        module = frame.f_globals.get("__name__", "")
        if event not in ("call", "return") or not module.startswith("gan_lib"):
            return
        if frame.f_code.co_name.startswith("<module") or frame.f_code.co_name == "__getattr__":
            module = "(import)"  # on the stack, so that the pops match, but not counted
        if event == "return":
            stack.pop()
            return
        if module != "(import)":
            seen.setdefault((module, frame.f_code.co_name), None)
        if module != "(import)" and stack and stack[-1] != module and module in stack:
            callbacks.setdefault(f"{stack[-1]} -> {module}.{frame.f_code.co_name}", None)
        stack.append(module)

    with tempfile.TemporaryDirectory() as tmp:
        sys.setprofile(hook)
        try:
            gan_lib.train(config, Path(tmp) / "run", progress=False)
        finally:
            sys.setprofile(None)
    return list(seen), list(callbacks)


def returns(calls: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(modules in visit order, one line per return to a module visited before)."""
    visits, back = [], []
    for module, function in calls:
        if visits and visits[-1] == module:
            continue
        if module in visits:
            back.append(f"{visits[-1]} -> {module}.{function}")
        visits.append(module)
    return visits, back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="faces64_fast")
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    calls, callbacks = trace(args.recipe, args.steps)
    visits, back = returns(calls)
    print(f"{args.recipe}, {args.steps} steps: {len(calls)} gan_lib functions called in "
          f"{len({m for m, _ in calls})} modules")
    print(f"call-backs (into a module still on the stack): {len(callbacks)}")
    print("  " + "\n  ".join(callbacks))
    print(f"reading order: {len(visits)} visits, {len(back)} returns to a module already left")
    print("  " + "\n  ".join(back))


if __name__ == "__main__":
    main()
