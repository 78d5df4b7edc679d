"""Run the benchmarks: `python -m benchmarks [--repeat N] [--quick]`.

Each workload runs in plain CPython with hand-written derivatives (the baseline) and in
nablisp, interleaved, several times; the table gives medians of the times and of the ratios
nablisp / CPython (each taken within one repetition),
nablisp's own derivative / primal ratio where the workload has a primal, and the ratios of the
peers (autograd, micrograd) that are installed.  nablisp and the baseline must compute the same
checksum, so a fast wrong answer is reported as a failure, not as a good ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

from nablisp.ad.reverse import Tape
from nablisp.interpreter import Interpreter, run_with_deep_stack, settle_collector

from . import workloads


# A sample is as many consecutive calls as last this long, and gives the time of one call.  A
# baseline of a few microseconds timed by a single call, right after nablisp's run has filled the
# caches with its own code, is taken cold: it measured 1.6–1.8 times its time in a loop (W3, W4),
# and the ratios came out that much too flattering.  Every side is timed warm, as timeit does.
SAMPLE_SECONDS = 0.05


def measure(function, size, calls: int = 1) -> tuple[float, object]:
    """(seconds per call, the last call's value)."""
    start = time.perf_counter()
    for _ in range(calls):
        value = function(size)
    return (time.perf_counter() - start) / calls, value


def calls_per_sample(function, size, quick: bool) -> int:
    """Calls that make a sample of about SAMPLE_SECONDS, from one call (which also warms up)."""
    seconds, _ = measure(function, size)
    return 1 if quick else max(1, round(SAMPLE_SECONDS / max(seconds, 1e-9)))


def milliseconds(seconds: float) -> str:
    """Wide enough for a second, precise enough for the microseconds of a closed-form baseline."""
    return f"{seconds * 1000:>7.1f}ms" if seconds >= 0.001 else f"{seconds * 1000:>7.3f}ms"


def paired_median(numerators, denominators) -> float:
    return statistics.median(n / d for n, d in zip(numerators, denominators))


def tape_memory(interp, workload, size) -> tuple[int, int]:
    """(peak bytes allocated, entries of the largest tape) for one nablisp run."""
    largest = [0]
    original = Tape.backward

    def backward(self, seeds, trace=None):
        largest[0] = max(largest[0], len(self.entries))
        return original(self, seeds, trace)
    Tape.backward = backward
    try:
        run = workload.setup(interp)
        tracemalloc.start()
        run(size)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        Tape.backward = original
    return peak, largest[0]


def startup_seconds(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nablisp.interpreter.cli", "-e", "1"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def without_bytecode(modules) -> list[str]:
    """The names of ``modules`` whose source Python would compile again at the next start: no
    bytecode beside it, or bytecode of another version of the file (compared as the import
    system does, by the source's size and modification time)."""
    names = []
    for module in modules:
        source, cached = getattr(module, "__file__", None), getattr(module, "__cached__", None)
        if not source or not source.endswith(".py"):
            continue
        try:
            with open(cached, "rb") as file:
                header = file.read(16)
        except (OSError, TypeError):
            names.append(module.__name__)
            continue
        status = os.stat(source)
        flags = int.from_bytes(header[4:8], "little")
        fresh = header[:4] == importlib.util.MAGIC_NUMBER and (
            flags != 0 or (int.from_bytes(header[8:12], "little") == int(status.st_mtime) & 0xFFFFFFFF
                           and int.from_bytes(header[12:16], "little") == status.st_size & 0xFFFFFFFF))
        if not fresh:
            names.append(module.__name__)
    return names


def startup_note() -> str:
    """Why start-up may read slow here: nablisp's modules compiled at every start."""
    ours = [module for name, module in list(sys.modules.items()) if name.split(".")[0] == "nablisp"]
    missing = without_bytecode(ours)
    if not missing:
        return ""
    return (f" ({len(missing)} of nablisp's {len(ours)} modules have no bytecode and are compiled at"
            f" every start: see the README's set-up line)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per workload (the median is taken)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that everything runs and agrees")
    parser.add_argument("--only", help="run only the workloads whose name contains this text")
    options = parser.parse_args(argv)
    return run_with_deep_stack(run, options)


def tape_floor(size, repeat, quick, nablisp_times) -> bool:
    """W5 as plain Python: its primal, and reverse mode on a list of tuples.  The ratio of the
    two is what a tape costs in CPython before any interpreter adds to it: the yardstick for
    nablisp's own derivative/primal ratio, and nablisp's gradient (``nablisp_times``, taken
    just before) is compared with that tape too."""
    calls = {function: calls_per_sample(function, size, quick)
             for function in (workloads.w5_python_primal, workloads.w5_python_tape)}
    times: dict = {function: [] for function in calls}
    for _ in range(repeat):
        for function, count in calls.items():
            seconds, value = measure(function, size, count)
            times[function].append(seconds)
    primal, tape = times[workloads.w5_python_primal], times[workloads.w5_python_tape]
    checksum = workloads.w5_python_tape(size)
    agrees = workloads.Workload.agree(workloads.w5_python(size), checksum)
    print(f"{'':<4}W5 in plain Python: primal {milliseconds(statistics.median(primal)).strip()}, "
          f"a tape of tuples {milliseconds(statistics.median(tape)).strip()}: "
          f"derivative/primal {paired_median(tape, primal):.1f}x{'' if agrees else ' (WRONG checksum)'}; "
          f"nablisp's gradient took {statistics.median(nablisp_times) / statistics.median(tape):.1f}x this tape")
    return agrees


def run(options) -> int:
    interp = Interpreter()
    settle_collector()      # as the command line does for a script
    failures = 0
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.system()}; median of {options.repeat}")
    print(f"{'workload':<52} {'CPython':>9} {'nablisp':>9} {'ratio':>7} {'deriv/primal':>12}  peers")
    for workload in workloads.ALL:
        if options.only and options.only not in workload.name:
            continue
        size = workload.quick_size if options.quick else workload.size
        run_nablisp = workload.setup(interp)
        run_primal = workload.setup_primal(interp) if workload.primal_entry else None
        peers = {name: function for name, (module, function) in workload.peers.items()
                 if importlib.util.find_spec(module) is not None}
        times: dict = {"python": [], "nablisp": [], "primal": []}
        times.update({name: [] for name in peers})
        calls = {name: calls_per_sample(function, size, options.quick)
                 for name, function in [("python", workload.python), ("nablisp", run_nablisp),
                                        ("primal", run_primal)] if function is not None}
        for _ in range(options.repeat):
            seconds, expected = measure(workload.python, size, calls["python"])
            times["python"].append(seconds)
            seconds, actual = measure(run_nablisp, size, calls["nablisp"])
            times["nablisp"].append(seconds)
            if not workload.agree(expected, actual):
                print(f"{workload.name}: nablisp computed {actual!r}, CPython {expected!r}: WRONG")
                failures += 1
                break
            if run_primal is not None:
                times["primal"].append(measure(run_primal, size, calls["primal"])[0])
            for name, function in list(peers.items()):
                try:
                    if name not in calls:
                        calls[name] = calls_per_sample(function, size, options.quick)
                    times[name].append(measure(function, size, calls[name])[0])
                except Exception as error:      # a peer's own failure is a result, not ours
                    print(f"{workload.name}: {name} failed: {type(error).__name__}: {error}")
                    del peers[name]
        median = {name: statistics.median(values) for name, values in times.items() if values}
        base = median["python"]
        # ratios per repetition, of runs made moments apart, then their median: a machine whose
        # speed drifts (a shared VM) moves both sides of a ratio together
        ratio = paired_median(times["nablisp"], times["python"])
        primal = f"{paired_median(times['nablisp'], times['primal']):>11.1f}x" if times["primal"] else " " * 12
        peer_text = "  ".join(f"{name} {paired_median(times[name], times['python']):.0f}x" for name in peers)
        print(f"{workload.name + f' (n={size})':<52} {milliseconds(base)} {milliseconds(median['nablisp'])} "
              f"{ratio:>6.1f}x {primal}  {peer_text}")
        if workload.name.startswith("W5"):
            failures += not tape_floor(size, options.repeat, options.quick, times["nablisp"])
            peak, entries = tape_memory(interp, workload, size)
            if entries:
                print(f"{'':<4}W5 tape: {entries} entries, peak memory {peak / 1e6:.1f} MB = "
                      f"{peak / entries:.0f} bytes per entry")
    print(f"start-up of `nablisp -e 1`: {startup_seconds(3 if options.quick else options.repeat):.3f} s"
          f"{startup_note()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
