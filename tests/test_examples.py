"""Every program under examples/ runs and prints what tests/expected/NAME.out holds; the
benchmarks run at a tiny size and agree with their CPython baselines."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.scm"))  # the Python examples have tests of their own


def test_every_example_has_an_expected_output():
    assert EXAMPLES
    for example in EXAMPLES:
        assert (ROOT / "tests" / "expected" / f"{example.stem}.out").exists(), example.name


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_output(example):
    result = subprocess.run([sys.executable, "-m", "nablisp.interpreter.cli", str(example)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "tests" / "expected" / f"{example.stem}.out").read_text()


def test_benchmarks_run_and_agree_at_a_tiny_size():
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--repeat", "1"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "W1 fib" in result.stdout


def _benchmarks_module(name):
    """benchmarks/ is a directory of the checkout, not an installed package."""
    sys.path.insert(0, str(ROOT))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT))


def test_a_sample_is_many_warm_calls_of_a_fast_function():
    # a microsecond baseline timed by one cold call made every ratio look better than it is
    runner = _benchmarks_module("benchmarks.__main__")
    calls_per_sample, measure = runner.calls_per_sample, runner.measure
    seen = []

    def workload(size):
        seen.append(size)
        return size * 2
    seconds, value = measure(workload, 21, calls=3)
    assert seen == [21, 21, 21] and value == 42 and seconds >= 0
    assert calls_per_sample(workload, 1, quick=False) > 100      # a no-op takes far under 0.5 ms
    assert calls_per_sample(workload, 1, quick=True) == 1


def test_the_plain_python_tape_of_w5_computes_the_hand_written_derivatives():
    # the yardstick the benchmark prints beside W5 must be reverse mode of the same function
    workloads = _benchmarks_module("benchmarks.workloads")
    for steps in (1, 2, 50):
        assert abs(workloads.w5_python_tape(steps) - workloads.w5_python(steps)) < 1e-12 * max(1, steps)


def test_start_up_says_when_nablisp_has_no_bytecode(tmp_path):
    # a start-up figure measured while every start compiles nablisp's modules must say so
    import importlib.util
    import os
    import py_compile
    runner = _benchmarks_module("benchmarks.__main__")
    source = tmp_path / "some_module.py"
    source.write_text("x = 1\n")
    spec = importlib.util.spec_from_file_location("some_module", source)
    module = importlib.util.module_from_spec(spec)
    assert runner.without_bytecode([module]) == ["some_module"]
    py_compile.compile(str(source), cfile=module.__cached__, doraise=True)
    assert runner.without_bytecode([module]) == []
    source.write_text("x = 12\n")               # edited since: the bytecode is of another file
    assert runner.without_bytecode([module]) == ["some_module"]
    py_compile.compile(str(source), cfile=module.__cached__, doraise=True)
    os.utime(source, (0, 12345))
    assert runner.without_bytecode([module]) == ["some_module"]
