"""Run the benchmarks: `python -m benchmarks [--repeat N] [--quick]`.

Each workload runs in plain CPython (the baseline) and in nablisp, interleaved, several times;
the table gives medians and the ratio nablisp / CPython.  Both must compute the same checksum,
so a fast wrong answer shows as a failure, not as a good ratio.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

from nablisp.interpreter import Interpreter, run_with_deep_stack

from . import workloads


def measure(function) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per workload (median taken)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that everything runs and agrees")
    options = parser.parse_args(argv)
    return run_with_deep_stack(run, options)


def run(options) -> int:
    interp = Interpreter()
    failures = 0
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.system()}; repetitions: {options.repeat}")
    print(f"{'workload':<44} {'CPython':>10} {'nablisp':>10} {'ratio':>8}")
    for workload in workloads.ALL:
        size = workload.quick_size if options.quick else workload.size
        setup = workload.setup(interp)
        python_times, nablisp_times = [], []
        for _ in range(options.repeat):
            seconds, expected = measure(lambda: workload.python(size))
            python_times.append(seconds)
            seconds, actual = measure(lambda: setup(size))
            nablisp_times.append(seconds)
            if not workload.agree(expected, actual):
                print(f"{workload.name}: nablisp computed {actual!r}, CPython {expected!r}")
                failures += 1
                break
        python_median = statistics.median(python_times)
        nablisp_median = statistics.median(nablisp_times)
        print(f"{workload.name + f' (n={size})':<44} {python_median * 1000:>8.1f}ms {nablisp_median * 1000:>8.1f}ms "
              f"{nablisp_median / python_median:>7.1f}x")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
