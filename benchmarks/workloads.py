"""The workloads: each as a plain Python function and as the same algorithm in nablisp."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable


@dataclass
class Workload:
    name: str
    size: int
    quick_size: int
    python: Callable
    nablisp_source: str
    entry: str

    def setup(self, interp):
        interp.eval(self.nablisp_source, f"<benchmark {self.name}>")
        procedure = interp.lookup(self.entry)
        return lambda n: interp.call(procedure, n)

    @staticmethod
    def agree(expected, actual) -> bool:
        if isinstance(expected, float) or isinstance(actual, float):
            return math.isclose(expected, actual, rel_tol=1e-9)
        return expected == actual


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def sum_to(n):
    total, i = 0, 1
    while i <= n:
        total, i = total + i, i + 1
    return total


ALL = [
    Workload("W1 fib, naive recursion", 25, 10, fib,
             "(define (bench-fib n) (if (< n 2) n (+ (bench-fib (- n 1)) (bench-fib (- n 2)))))",
             "bench-fib"),
    Workload("W1 tail-recursive loop summing 1..n", 1_000_000, 1000, sum_to,
             "(define (bench-sum n) (let loop ((i 1) (total 0)) (if (> i n) total (loop (+ i 1) (+ total i)))))",
             "bench-sum"),
]
