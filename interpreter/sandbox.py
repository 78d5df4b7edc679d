"""Running untrusted nablisp: a policy for what a program may reach, and an evaluator for graders.

In the spirit of Racket's `racket/sandbox`: an evaluator has limits on time, memory, steps and
output that the program cannot switch off (limits.py), reaches only the files and environment
variables its `Policy` grants (files.py is the one gate), and its `exit` ends the evaluation,
not the host.  `Sandbox.run` takes a program and a time budget and gives back an `Outcome`:
the values of its forms, what it wrote, and its error.

What this does not do: it is not an operating-system boundary.  The program runs in the host's
process, so a bug in nablisp or in Python (a crash, a way around the gate) is the host's
problem; memory is the whole process's, measured as it grows; CPU time of other threads is not
charged.  For code from someone who may attack the grader, run each sandbox in a process of its
own under OS limits too: a container or a `nsjail`/`bwrap`/`firejail` jail with no network, a
read-only file system, `ulimit -v`/`-t` (or cgroups) — and kill the process from outside when
the wall-clock budget is gone.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .errors import NablispError, ResourceLimitExceeded

SANDBOX_DEFAULTS = {
    "timeout": 10.0,                  # seconds of each evaluation
    "max_memory": 256 << 20,          # bytes the process may grow by during an evaluation
    "max_steps": 100_000_000,
    "max_output": 1 << 20,            # characters written to the output and error ports
}


class ProgramExit(NablispError):
    """A sandboxed program called `exit` (or `emergency-exit`): its evaluation ended there."""

    kind = "exit"

    def __init__(self, code: int):
        super().__init__(f"the program exited with status {code}")
        self.code = code


class Policy:
    """What a sandboxed program may reach: files and directories it may read (``read``) or also
    write (``write``), and environment variables (``variables``, by name).  A directory grants
    everything under it.  Paths are compared after symbolic links are resolved."""

    def __init__(self, read=(), write=(), variables=(), max_output: int | None = SANDBOX_DEFAULTS["max_output"]):
        self.writable = [os.path.realpath(path) for path in write]
        self.readable = [os.path.realpath(path) for path in read] + self.writable
        self.variables = frozenset(variables)
        self.max_output = max_output

    def allows(self, path, writing: bool) -> bool:
        try:
            resolved = os.path.realpath(os.fspath(path))
        except (TypeError, ValueError, OSError):
            return False
        for granted in (self.writable if writing else self.readable):
            if resolved == granted or resolved.startswith(granted.rstrip(os.sep) + os.sep):
                return True
        return False

    def allows_variable(self, name: str) -> bool:
        return name in self.variables

    @contextmanager
    def governing(self, limits):
        """An evaluation under this policy: the file gate closed, the output bounded."""
        from ..interpreter import files
        from .primitives.ports import CURRENT_ERROR, CURRENT_OUTPUT, OutputPort
        saved = [(parameter, parameter.value) for parameter in (CURRENT_OUTPUT, CURRENT_ERROR)]
        if self.max_output is not None:
            counter = _OutputBudget(self.max_output, limits)
            for parameter, port in saved:
                if port.__class__ is OutputPort and port.stream is not None:
                    bounded = OutputPort(_BoundedStream(port.stream, counter), port.path)
                    bounded.who = getattr(port, "who", None)
                    parameter.value = bounded
        try:
            with files.governed_by(self):
                yield
        finally:
            for parameter, port in saved:
                parameter.value = port


class _OutputBudget:
    __slots__ = ("remaining", "limit", "limits")

    def __init__(self, limit: int, limits):
        self.remaining = limit
        self.limit = limit
        self.limits = limits

    def spend(self, text: str) -> str:
        """The part of ``text`` the budget allows; past it, the output limit trips."""
        if len(text) <= self.remaining:
            self.remaining -= len(text)
            return text
        allowed, self.remaining = text[:self.remaining], 0
        self.limits.trip(f"output limit of {self.limit} characters exceeded")
        return allowed


class _BoundedStream:
    def __init__(self, stream, budget: _OutputBudget):
        self.stream = stream
        self.budget = budget
        self.name = getattr(stream, "name", "output")

    def write(self, text: str):
        allowed = self.budget.spend(text)
        if allowed:
            self.stream.write(allowed)
        if len(allowed) < len(text):
            raise ResourceLimitExceeded(self.budget.limits.tripped)

    def flush(self):
        self.stream.flush()


class _Collected:
    """What a sandboxed program writes, kept for its Outcome."""

    name = "output"

    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str):
        self.parts.append(text)

    def flush(self):
        pass

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class Outcome:
    """What one `Sandbox.run` gave: ``values`` (one Python value per top-level form that ran),
    ``output`` and ``error_output`` (what the program wrote), ``error`` (the NablispError that
    stopped it, or None), ``status`` ("ok", "error", "limit" or "exit"), ``exit_code`` (when it
    called exit), ``seconds`` of wall-clock time and ``steps``."""

    values: list = field(default_factory=list)
    output: str = ""
    error_output: str = ""
    error: NablispError | None = None
    status: str = "ok"
    exit_code: int | None = None
    seconds: float = 0.0
    steps: int = 0

    @property
    def error_message(self) -> str | None:
        """The error as nablisp reports it: `file:line:col: error: message` and a backtrace."""
        if self.error is None:
            return None
        text = self.error.located()
        return text + "\n" + self.error.backtrace_text() if self.error.backtrace else text


class Sandbox:
    """An evaluator for untrusted programs.  Every run shares one interpreter, so a grader can
    run a student's definitions and then test them with further runs.

        sandbox = Sandbox(timeout=2)
        outcome = sandbox.run(student_code)
        check = sandbox.run("(square 12)", timeout=0.5)
        assert check.values == [144]
    """

    def __init__(self, timeout: float = SANDBOX_DEFAULTS["timeout"],
                 max_memory: int = SANDBOX_DEFAULTS["max_memory"],
                 max_steps: int = SANDBOX_DEFAULTS["max_steps"],
                 max_output: int = SANDBOX_DEFAULTS["max_output"],
                 read=(), write=(), variables=(), argv=None):
        from .interpreter import Interpreter
        self.policy = Policy(read, write, variables, max_output)
        self.interpreter = Interpreter(argv=argv or ["sandbox"], max_steps=max_steps, timeout=timeout,
                                       max_memory=max_memory, sandbox=self.policy)

    def run(self, program: str, timeout: float | None = None, input: str = "",
            filename: str = "<program>") -> Outcome:
        """Evaluate ``program`` form by form, within ``timeout`` seconds (the sandbox's own when
        None); never raises for anything the program does."""
        from .embedding import to_python
        from .primitives.ports import CURRENT_ERROR, CURRENT_INPUT, CURRENT_OUTPUT, InputPort, OutputPort
        interp = self.interpreter
        outcome = Outcome()
        output, errors = _Collected(), _Collected()
        saved = [(parameter, parameter.value) for parameter in (CURRENT_OUTPUT, CURRENT_ERROR, CURRENT_INPUT)]
        saved_timeout = interp.limits.timeout
        started = time.monotonic()
        try:
            CURRENT_OUTPUT.value = OutputPort(output)
            CURRENT_ERROR.value = OutputPort(errors)
            CURRENT_INPUT.value = InputPort(input, name="<input>")
            if timeout is not None:
                interp.limits.set_timeout(timeout)
            with interp._limits():      # one budget for reading, compiling and every form
                compiled = interp.compile_text(program, filename)
                for function, span in compiled:
                    outcome.values.append(to_python(interp, interp.run(function, span)))
        except ProgramExit as exit_request:
            outcome.status, outcome.exit_code, outcome.error = "exit", exit_request.code, None
        except NablispError as error:
            outcome.error = error
            outcome.status = "limit" if error.__class__.__name__ == "ResourceLimitError" else "error"
        finally:
            interp.limits.set_timeout(saved_timeout)
            for parameter, value in saved:
                parameter.value = value
            outcome.seconds = time.monotonic() - started
            outcome.steps = interp.limits.steps
            outcome.output = output.text()
            outcome.error_output = errors.text()
        return outcome

    def call(self, name: str, *args, timeout: float | None = None) -> Outcome:
        """Apply the program's procedure ``name`` to Python values (a grader's test case)."""
        from .embedding import to_scheme
        from ..lang.printer import write_string
        from ..lang.datum import Symbol, make_list
        quoted = " ".join(write_string(make_list([Symbol("quote"), to_scheme(arg)])) for arg in args)
        return self.run(f"({write_string(Symbol(name))} {quoted})", timeout=timeout, filename="<call>")
