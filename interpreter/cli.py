"""The `nablisp` command: run a script, evaluate expressions, or start the REPL.

Exit status: 0 on success, or what `(exit n)` asked; 64 for a usage error, 65 for a read or
syntax error, 66 for a script that cannot be opened, 70 for a run-time error, 71 for an internal
error, 130 when interrupted (the codes of BSD's sysexits.h).  Forms piped into `nablisp` are all
evaluated, errors or not, and the status is then that of the first error, as if that form had
been a script: later errors often follow from the first (a name its failed definition left
unbound), so the first says most.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import __version__
from ..lang.datum import MultipleValues
from ..lang.printer import write_string
from ..lang.reader import ReadError, is_complete, read_all
from .errors import (InternalError, NablispError, SchemeExit, SchemeReadError,
                     SchemeSyntaxError)
from .collector import settle_collector
from .interpreter import Interpreter, run_with_deep_stack
from .sandbox import ProgramExit

EXIT_USAGE = 64
EXIT_SYNTAX = 65
EXIT_NO_INPUT = 66
EXIT_RUNTIME = 70
EXIT_INTERNAL = 71
EXIT_INTERRUPTED = 130


def exit_code_for(error: NablispError) -> int:
    if isinstance(error, (SchemeReadError, SchemeSyntaxError)):
        return EXIT_SYNTAX
    if isinstance(error, InternalError):
        return EXIT_INTERNAL
    return EXIT_RUNTIME


def report(error: NablispError, stream=None):
    stream = stream or sys.stderr
    stream.write(error.located() + "\n")
    if error.backtrace:
        stream.write(error.backtrace_text() + "\n")
    stream.flush()


def print_value(value, stream=None):
    stream = stream or sys.stdout
    values = value if value.__class__ is MultipleValues else (value,)
    for item in values:
        if item is not None:
            fresh_line()
            stream.write(write_string(item) + "\n")
    stream.flush()


def fresh_line() -> bool:
    """End the line the program's output left open (`(display "hello")`), so that what the
    front end prints next — a value, an error, the prompt — starts a line of its own; True if
    it did."""
    from .primitives.ports import CURRENT_ERROR, CURRENT_OUTPUT
    ended = False
    for port in (CURRENT_OUTPUT.value, CURRENT_ERROR.value):
        if port.column and port.stream is not None and port.path is None and port.open:
            port.write("\n")
            port.flush()
            ended = True
    return ended


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nablisp",
        description="nablisp: a small Scheme in which differentiation is a first-class operator.",
        epilog="With no FILE and no -e, starts the REPL (or, when standard input is not a "
               "terminal, evaluates the forms read from it one by one and prints their values).")
    parser.add_argument("-e", "--eval", dest="expressions", action="append", metavar="EXPR",
                        help="evaluate EXPR and print its value (repeatable)")
    parser.add_argument("-i", "--interactive", action="store_true",
                        help="after running FILE (or -e), enter the REPL")
    parser.add_argument("-I", dest="include", action="append", metavar="DIR",
                        help="look for libraries in DIR (before NABLISP_PATH and the script's directory)")
    parser.add_argument("--no-color", action="store_true", help="no colours in the REPL")
    parser.add_argument("--max-steps", type=int, metavar="N",
                        help="stop a program after N steps (procedure calls and loop iterations)")
    parser.add_argument("--timeout", type=float, metavar="S", help="stop a program after S seconds")
    parser.add_argument("--max-memory", type=memory_size, metavar="BYTES",
                        help="stop a program that makes the process grow by more than BYTES (suffixes K, M, G)")
    parser.add_argument("--sandbox", action="store_true",
                        help="run untrusted code: default limits, no file or environment access but what "
                             "--allow-read/--allow-write/--allow-env grant")
    parser.add_argument("--allow-read", action="append", default=[], metavar="PATH",
                        help="in the sandbox, let the program read PATH (a file, or a directory and all under it)")
    parser.add_argument("--allow-write", action="append", default=[], metavar="PATH",
                        help="in the sandbox, let the program read and write PATH")
    parser.add_argument("--allow-env", action="append", default=[], metavar="NAME",
                        help="in the sandbox, let the program see the environment variable NAME")
    parser.add_argument("--install-kernel", action="store_true",
                        help="register nablisp's Jupyter kernel for this user (needs nablisp[jupyter])")
    parser.add_argument("--version", action="version", version=f"nablisp {__version__}")
    parser.add_argument("file", nargs="?", metavar="FILE", help="script to run; - reads it from standard input")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for the script")
    return parser


class _UsageError(Exception):
    pass


def memory_size(text: str) -> int:
    """``--max-memory``: bytes, or a number followed by K, M or G (powers of 1024)."""
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    try:
        value = float(text[:-1] if scale != 1 else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (try 500M or 2G)") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (try 500M or 2G)")
    return int(value)


def _limits_of(options) -> dict:
    """The Interpreter arguments of the limit and sandbox options."""
    policy = False
    if options.sandbox:
        from .sandbox import Policy
        script = [options.file] if options.file not in (None, "-") else []    # named, so granted
        policy = Policy(options.allow_read + script, options.allow_write, options.allow_env)
    elif options.allow_read or options.allow_write or options.allow_env:
        raise _UsageError("--allow-read, --allow-write and --allow-env need --sandbox")
    return {"max_steps": options.max_steps, "timeout": options.timeout,
            "max_memory": options.max_memory, "sandbox": policy}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser()
    parser.error = lambda message: (_ for _ in ()).throw(_UsageError(message))  # no SystemExit(2)
    try:
        options = parser.parse_args(argv)
        for name in ("max_steps", "timeout"):
            value = getattr(options, name)
            if value is not None and not value > 0:
                raise _UsageError(f"--{name.replace('_', '-')} must be positive, not {value}")
        limits = _limits_of(options)
    except _UsageError as error:
        sys.stderr.write(f"nablisp: {error}\n{parser.format_usage()}")
        return EXIT_USAGE
    if options.install_kernel:
        return _install_kernel()
    try:
        code, interp = run_with_deep_stack(_main, options, limits)
        if code is not None:
            return code
        color = not options.no_color and "NO_COLOR" not in os.environ
        if sys.stdin.isatty():
            from .repl import TerminalRepl
            return TerminalRepl(interp, color).run()
        return run_with_deep_stack(read_eval_print, interp, sys.stdin)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return 0


def _install_kernel() -> int:
    try:
        from .kernel import install
        path = install(user=True)
    except ImportError:
        sys.stderr.write("nablisp: the Jupyter kernel needs ipykernel: pip install 'nablisp[jupyter]'\n")
        return 1
    print(f"installed the nablisp kernel in {path}")
    return 0


def _silence_stdout():
    # The reader of our output went away (`nablisp big.scm | head -1`): exit without a traceback.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(options, limits: dict) -> tuple[int | None, Interpreter | None]:
    """Run what the options ask for; (exit status, None), or (None, interpreter) for the REPL."""
    script = options.file
    argv = [script or "nablisp"] + list(options.args or [])
    try:
        interp = Interpreter(argv=argv, **limits)
    except NablispError as error:
        report(error)
        return EXIT_INTERNAL, None
    interp.libraries.search_path[:0] = [Path(directory) for directory in options.include or []]
    settle_collector()
    try:
        if options.expressions:
            for expression in options.expressions:
                print_value(interp.evaluate(expression, "<command line>"))
        if script == "-":
            interp.run_program(sys.stdin.read(), "<stdin>")
        elif script is not None:
            unreadable = _cannot_open(script)
            if unreadable:
                sys.stderr.write(f"nablisp: cannot open {script}: {unreadable}\n")
                return EXIT_NO_INPUT, None
            interp.load(script, program=True)
    except SchemeExit as exit_request:
        return exit_request.code, None
    except ProgramExit as exit_request:     # a sandbox's exit ends the evaluation, here the program
        return exit_request.code, None
    except NablispError as error:
        report(error)
        if options.interactive:
            interp.reported_error = error
            interp.enter_program()
            return None, interp
        return exit_code_for(error), None
    if options.interactive or (script is None and not options.expressions):
        interp.enter_program()
        return None, interp
    return 0, None


def _cannot_open(script: str) -> str | None:
    """Why the script file cannot be read, or None when it can."""
    if not os.path.exists(script):
        return "no such file"
    if os.path.isdir(script):
        return "it is a directory"
    if not os.access(script, os.R_OK):
        return "permission denied"
    return None


def read_eval_print(interp: Interpreter, stream, filename: str = "<stdin>", out=None, err=None) -> int:
    """Forms read one by one from ``stream``: each evaluated and its value printed; an error is
    reported and the next form read.  Returns the exit status: that of the first error, if any."""
    out = out or sys.stdout
    err = err or sys.stderr
    status = 0
    buffer = ""
    first_line = 1
    line_number = 0
    while True:
        line = stream.readline()
        if line:
            line_number += 1
            buffer += line
            if not buffer.strip() or not is_complete(buffer):
                if not buffer.strip():
                    buffer, first_line = "", line_number + 1
                continue
        elif not buffer.strip():
            return status
        try:
            data = read_all("\n" * (first_line - 1) + buffer, filename)
        except ReadError as error:
            if error.incomplete and line:
                continue
            fresh_line()
            report(SchemeReadError(error.message, error.span), err)
            status = status or EXIT_SYNTAX
            data = []
        buffer, first_line = "", line_number + 1
        for datum, span in data:
            try:
                print_value(interp.run_nodes(interp.compile_data([(datum, span)])), out)
            except (SchemeExit, ProgramExit) as exit_request:
                return exit_request.code
            except NablispError as error:
                fresh_line()
                report(error, err)
                status = status or exit_code_for(error)
        if not line:
            return status


if __name__ == "__main__":
    sys.exit(main())
