"""Limits on an evaluation — steps, time, memory — that the program being limited cannot defeat.

How each one holds:
- Compiled code, and the expander at every form and macro use, call `Limits.tick`.  Every few
  hundred ticks it looks at the step count, the clock and the process's memory.
- A watchdog thread looks at the clock and the memory too, and when one has run out it trips
  the limits; the next tick then raises.  Code that does not tick for a while (the reader, a
  long primitive written in Python) gets the exception thrown into its thread, again every
  `_GRACE` seconds while the evaluation lasts.
- A tripped limit stays tripped until the evaluation ends: every tick raises again, so a
  handler or a dynamic-wind `after` thunk that catches it and goes on is stopped at once.
  The exception is a BaseException, which no Scheme handler catches in the first place.
- What a single uninterruptible Python call would do (a huge bignum power, a list of 10¹⁴
  elements) is bounded before it starts: `reserve` refuses it at once.
- Ending is race-free: the watchdog throws only while it holds the lock and sees the evaluation
  active, and the evaluating thread, under that lock, marks it inactive and withdraws whatever
  was thrown and not yet delivered.  Nothing reaches the host after `evaluate` returned.

Ctrl-C in the REPL (`interrupt`) trips the same way, as a KeyboardInterrupt.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import ErrorObject, ResourceLimitExceeded, SchemeError

_CHECK_EVERY = 512        # ticks between looks at the clock and the memory
_POLL = 0.02              # how often the watchdog looks at the memory, in seconds
_GRACE = 0.1              # how long a tripped limit waits for a tick before it is thrown in

# Without a memory limit, an allocation larger than the machine's memory is refused at once
# (it would otherwise run for minutes before MemoryError, deaf to Ctrl-C).
try:
    _PHYSICAL_MEMORY = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
except (ValueError, OSError, AttributeError):
    _PHYSICAL_MEMORY = 1 << 36

# The largest exact integer one arithmetic operation may make: bignum multiplication is one C
# call that nothing interrupts, and one of 2²⁴ bits already takes a second or two.
MAX_EXACT_BITS = 1 << 24

PAIR_BYTES = 64           # a Pair: object header, car, cdr, span

# The work of a primitive counted as steps: about what a step of compiled code takes.
ELEMENTS_PER_STEP = 64
BITS_PER_STEP = 4096


class LimitInterrupt(ResourceLimitExceeded):
    """Thrown into the evaluating thread by the watchdog; the message is the Limits' own."""


class _Interrupt(KeyboardInterrupt):
    """Ctrl-C, thrown into the evaluating thread."""


def resident_memory() -> int:
    """The bytes of memory the process holds now (its peak where /proc is missing)."""
    global _statm
    if _statm is None:
        try:
            _statm = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            _statm = -1
    if _statm >= 0:
        try:
            return int(os.pread(_statm, 100, 0).split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_statm: int | None = None
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _throw(thread_id: int, exception_class):
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exception_class))


def _withdraw(thread_id: int):
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)


def describe_bytes(count: float) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{int(count)} bytes"


class Limits:
    """The limits of one interpreter, and the state of the evaluation they bound."""

    def __init__(self, max_steps: int | None = None, timeout: float | None = None,
                 max_memory: int | None = None):
        for name, value in (("max_steps", max_steps), ("timeout", timeout), ("max_memory", max_memory)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value != value or value <= 0):
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        self.max_steps = max_steps
        self.timeout = timeout
        self.max_memory = max_memory
        self.steps = 0
        self.next_check = 1 << 62         # no evaluation: tick costs an add and a compare
        self.active = False
        self.tripped: str | None = None   # the message of the limit that ran out
        self.interrupted = False          # Ctrl-C, which raises KeyboardInterrupt instead
        self.deadline = None
        self.memory_base = 0
        self.thread_id = None
        self.thrown = False
        self._lock = threading.Lock()
        self._finished = threading.Event()

    def set_timeout(self, timeout: float | None):
        """A new time limit for the evaluations to come."""
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or timeout != timeout or timeout <= 0):
            raise ValueError(f"timeout must be a positive number, not {timeout!r}")
        self.timeout = timeout

    @property
    def enabled(self) -> bool:
        return self.max_steps is not None or self.timeout is not None or self.max_memory is not None

    # -- the evaluation -------------------------------------------------------------------------

    @contextmanager
    def evaluation(self):
        """Bound what runs inside (once: an evaluation inside an evaluation shares its budget)."""
        if self.active or not self.enabled:
            token = _CURRENT.set(self if self.enabled else _CURRENT.get())
            try:
                yield
            finally:
                _CURRENT.reset(token)
            return
        token = None
        try:
            token = _CURRENT.set(self)
            self._start()
            yield
        finally:
            self._stop()
            if token is not None:
                _CURRENT.reset(token)

    def _start(self):
        self.steps = 0
        self.tripped = None
        self.interrupted = False
        self.thrown = False
        self.thread_id = threading.get_ident()
        self.deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.memory_base = resident_memory() if self.max_memory is not None else 0
        self._finished = threading.Event()
        self.next_check = self._next_check_after(0)
        with _REGISTRY_LOCK:
            _ACTIVE[self.thread_id] = self
        self.active = True
        if self.timeout is not None or self.max_memory is not None:
            watchdog = threading.Thread(target=self._watch, args=(self._finished,),
                                        name="nablisp limits", daemon=True)
            watchdog.start()

    def _stop(self):
        finished = self._finished
        while True:
            try:
                finished.set()
                with self._lock:
                    self.active = False
                    self.next_check = 1 << 62
                    if self.thrown:
                        _withdraw(self.thread_id)
                        self.thrown = False
                with _REGISTRY_LOCK:
                    if _ACTIVE.get(self.thread_id) is self:
                        del _ACTIVE[self.thread_id]
                return
            except (ResourceLimitExceeded, KeyboardInterrupt):
                continue        # thrown in just before the lock was taken: nothing more can come

    # -- ticks ----------------------------------------------------------------------------------

    def tick(self):
        """A step: a procedure call, a loop's iteration, a form expanded."""
        self.steps += 1
        if self.steps >= self.next_check:
            self.check()

    def charge(self, steps: int):
        """The steps a primitive's work is worth, counted before it starts."""
        if steps > 0 and self.active:
            self.steps += steps
            if self.max_steps is not None and self.steps > self.max_steps:
                self.check()

    def check(self):
        if not self.active:
            self.next_check = 1 << 62
            return
        if self.interrupted:
            raise _Interrupt()
        if self.tripped is not None:
            raise ResourceLimitExceeded(self.tripped)
        message = self._exceeded()
        if message is not None:
            self.trip(message)
            raise ResourceLimitExceeded(message)
        self.next_check = self._next_check_after(self.steps)

    def _next_check_after(self, steps: int) -> int:
        following = steps + _CHECK_EVERY
        if self.max_steps is not None:
            following = min(following, self.max_steps + 1)
        return following

    def _exceeded(self) -> str | None:
        if self.max_steps is not None and self.steps > self.max_steps:
            return f"step limit of {self.max_steps} steps exceeded"
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return f"time limit of {self.timeout:g} s exceeded"
        if self.max_memory is not None and resident_memory() - self.memory_base > self.max_memory:
            return f"memory limit of {describe_bytes(self.max_memory)} exceeded"
        return None

    def trip(self, message: str):
        """The limit that ran out: from now on every tick raises."""
        if self.tripped is None:
            self.tripped = message
        self.next_check = 0

    def interrupt(self):
        """Ctrl-C: like a tripped limit, as a KeyboardInterrupt."""
        with self._lock:
            if not self.active:
                return
            self.interrupted = True
            self.next_check = 0
            self.thrown = True
            _throw(self.thread_id, _Interrupt)

    # -- allocation -----------------------------------------------------------------------------

    def reserve(self, size: float, who: str, what: str):
        """Refuse, before it starts, an allocation of ``size`` bytes the limit cannot hold."""
        if self.max_memory is not None and self.active:
            used = max(0, resident_memory() - self.memory_base)
            if used + size > self.max_memory:
                message = f"memory limit of {describe_bytes(self.max_memory)} exceeded"
                self.trip(message)
                raise ResourceLimitExceeded(f"{message}: {who}: {what} would need {describe_bytes(size)}")
        if size > _PHYSICAL_MEMORY:
            raise SchemeError(ErrorObject(f"{who}: {what} would need {describe_bytes(size)}, more than "
                                          f"this machine's memory ({describe_bytes(_PHYSICAL_MEMORY)})"))

    # -- the watchdog ---------------------------------------------------------------------------

    def _watch(self, finished: threading.Event):
        while True:
            wait = _POLL if self.max_memory is not None else None
            if self.deadline is not None:
                remaining = max(0.0, self.deadline - time.monotonic())
                wait = remaining if wait is None else min(wait, remaining)
            if finished.wait(wait):
                return
            with self._lock:
                if finished.is_set() or not self.active:
                    return
                message = self.tripped or self._exceeded()
                if message is not None:
                    self.trip(message)
                    break
        while not finished.wait(_GRACE):     # no tick came: throw it in, until the end
            with self._lock:
                if finished.is_set() or not self.active:
                    return
                self.thrown = True
                _throw(self.thread_id, LimitInterrupt)


_UNLIMITED = Limits()
_CURRENT: ContextVar[Limits] = ContextVar("nablisp limits", default=_UNLIMITED)
_ACTIVE: dict[int, Limits] = {}
_REGISTRY_LOCK = threading.Lock()


def current() -> Limits:
    """The limits of the evaluation running in this thread (none: no limit but the machine's)."""
    return _CURRENT.get()


def reserve(size: float, who: str, what: str):
    _CURRENT.get().reserve(size, who, what)


def reserve_items(count: int, who: str, bytes_each: int = 8):
    """``count`` elements of a list, vector or string are about to be made: a step for every
    `ELEMENTS_PER_STEP` of them, and the memory they need."""
    if count > 4096:
        limits = _CURRENT.get()
        limits.charge(count // ELEMENTS_PER_STEP)
        limits.reserve(count * bytes_each, who, f"{count} elements")


def check_exact_bits(bits: int, who: str):
    """An exact integer of ``bits`` bits is about to be computed in one uninterruptible step."""
    if bits > MAX_EXACT_BITS:
        raise SchemeError(ErrorObject(f"{who}: the exact result would have more than {MAX_EXACT_BITS} bits "
                                      f"(the most one operation may compute)"))
    if bits > 1 << 16:
        limits = _CURRENT.get()
        limits.charge(bits // BITS_PER_STEP)
        limits.reserve(bits / 8, who, f"an exact result of {bits} bits")


def interrupt(thread_id: int) -> bool:
    """Ctrl-C for the evaluation running in thread ``thread_id``: sticky where it is limited
    (it has ticks), thrown in once otherwise.  Whether an evaluation was there to interrupt."""
    with _REGISTRY_LOCK:
        limits = _ACTIVE.get(thread_id)
    if limits is not None:
        limits.interrupt()
        return True
    _throw(thread_id, KeyboardInterrupt)
    return False
