"""Primitives that belong to one interpreter: evaluation, loading, exceptions with their handler
stack, the program's command line and environment variables, exiting, time."""

from __future__ import annotations

import time
from pathlib import Path

from ...ad.tags import plain
from ...lang.datum import MutableString, Pair, Symbol, is_string, make_list, make_pair
from ...lang.printer import write_string
from .. import files, runtime
from ..errors import (ErrorObject, SchemeError, SchemeExit, SchemeSyntaxError, condition_of, fail,
                      procedure_name)
from ..libraries import Environment
from .registry import document


def session_primitives(interp) -> dict:
    handlers = interp.handlers

    def environment(*specs):
        """A closed environment that sees what the import sets give (R7RS 6.12)."""
        env = Environment("[eval]")
        try:
            runtime_libraries = interp.libraries.import_into(env, list(specs), None)
        except SchemeSyntaxError as error:
            fail(f"environment: {error.message}")
        interp.libraries.instantiate(runtime_libraries)
        return env

    def r5rs_environment(version=5):
        if plain(version) != 5:
            fail(f"scheme-report-environment: only version 5 is known, got {write_string(version)}")
        return environment(make_list([Symbol("scheme"), Symbol("r5rs")]))

    def eval_(expression, env=None):
        if env is None:
            env = interp.default_env
        elif env.__class__ is not Environment:
            fail(f"eval: expected an environment, got {write_string(env)}")
        compiled = interp._compile_in(env, [(expression, None)])
        function, _ = compiled[0]
        result = function()
        while result.__class__ is runtime.TailCall:
            result = result.proc(*result.args)
        return result

    def load(filename, env=None):
        if filename.__class__ is MutableString:
            filename = str(filename)
        if filename.__class__ is not str:
            fail(f"load: expected a file name (a string), got {write_string(filename)}")
        if env is not None and env.__class__ is not Environment:
            fail(f"load: expected an environment, got {write_string(env)}")
        path = Path(filename)
        # A relative name means what it means to open-input-file (the current directory, as in
        # chibi and Racket); failing that, the file beside the one being loaded (as in Guile),
        # which lets a script load its neighbours from wherever it is run.
        if not path.is_absolute() and interp.loading and not files.is_file(path):
            beside = interp.loading[-1].parent / path
            if files.is_file(beside):
                path = beside
        interp.load(path, env=env)

    def handle(error, depth: int):
        """Call the handler at ``depth`` with the condition of ``error``, and then, should it
        return (R7RS: the error goes on, raised again where the handler ran), each handler
        outside it down to the nearest guard — each with only the handlers outside it, all
        where the error is.  The error remembers how far out its handlers have seen it."""
        while depth >= 0 and handlers[depth] is not runtime.GUARD:
            inner = handlers[depth:]
            del handlers[depth:]
            try:
                runtime.apply_procedure(inner[0], (condition_of(error),))
            except Exception as secondary:
                if getattr(secondary, "scheme_handled_at", None) is None:
                    secondary.scheme_handled_at = depth     # for the handlers outside this one
                raise
            finally:
                handlers[depth:] = inner
            if getattr(error, "continuable", False):
                # a raise-continuable that a guard (with no clause for it) unwound: its raise
                # point is gone, and nablisp's continuations cannot go back to it
                secondary = SchemeError(ErrorObject(
                    "raise-continuable: the handler returned a value for a raise that a guard "
                    "between them had already unwound (it had no clause for the condition), "
                    "and nablisp's continuations are escape-only, so the raise cannot be resumed"))
                secondary.scheme_handled_at = depth     # raised where the handler ran, past it
                raise secondary
            error.scheme_handled_at = depth
            depth -= 1

    def unseen_from(error) -> int:
        """The depth of the innermost handler that has not seen ``error`` (-1: none)."""
        handled_at = getattr(error, "scheme_handled_at", None)
        return len(handlers) - 1 if handled_at is None else min(len(handlers), handled_at) - 1

    def in_place(error):
        # leaving a dynamic-wind or parameterize: the handlers see it before they undo anything —
        # unless the stack or the memory ran out there, where a handler could not run either
        if not isinstance(error, (BrokenPipeError, RecursionError, MemoryError)):
            handle(error, unseen_from(error))

    def with_exception_handler(handler, thunk):
        runtime.check_procedure("with-exception-handler", handler)
        runtime.check_procedure("with-exception-handler", thunk)
        depth = len(handlers)
        handlers.append(handler)
        token = runtime.HANDLER_IN_PLACE.set(in_place)
        try:
            return runtime.apply_procedure(thunk, ())
        except BrokenPipeError:
            raise
        except Exception as error:
            # An error of the system (a primitive's, or a raise a guard passed on) that no
            # dynamic-wind or parameterize handed to the handlers on its way here: nothing they
            # could see has changed since it happened, so they run now.
            del handlers[depth + 1:]
            handle(error, unseen_from(error))
            raise
        finally:
            runtime.HANDLER_IN_PLACE.reset(token)
            del handlers[depth:]

    def raise_(obj):
        # R7RS 6.11: the current handler is called in the dynamic environment of the raise
        # (minus itself) — inside the dynamic-winds and parameterizations around the raise —
        # unless a guard is nearer, which the raise unwinds to
        error = SchemeError(obj)
        handle(error, len(handlers) - 1)
        raise error

    def error_(message, *irritants):
        text = str(message) if is_string(message) else write_string(message)
        raise_(ErrorObject(text, irritants))

    def raise_continuable(obj):
        if not handlers or handlers[-1] is runtime.GUARD:
            raise SchemeError(obj, continuable=True)
        handler = handlers.pop()
        try:
            return runtime.apply_procedure(handler, (obj,))
        finally:
            handlers.append(handler)

    def exit_status(code) -> int:
        code = plain(code)
        if code is True:
            return 0
        if code is False:
            return 1
        if code.__class__ is int:
            return code & 0xFF if code >= 0 else 1
        return 0

    def exit_(code=True):
        raise SchemeExit(exit_status(code))

    def emergency_exit(code=True):
        raise SchemeExit(exit_status(code), emergency=True)

    def command_line():
        return make_list(interp.argv)

    def graphviz_svg(dot_text, who):
        """Graphviz's `dot` renders the DOT text as SVG (the one program nablisp runs, with
        fixed arguments); None when it is not installed."""
        import shutil
        import subprocess
        program = shutil.which("dot")
        if program is None:
            return None
        result = subprocess.run([program, "-Tsvg"], input=dot_text.encode("utf-8"),
                                capture_output=True, timeout=60)
        if result.returncode != 0:
            fail(f"{who}: dot failed: {result.stderr.decode('utf-8', 'replace').strip()}")
        return result.stdout

    def check_writable(who, filename):
        try:
            files.check_writable(filename)      # before running a program for nothing
        except (OSError, ValueError) as error:
            raise files.file_error(who, "write", filename, error) from None

    def write_file(who, filename, data: bytes):
        try:
            files.write_bytes(filename, data)
        except (OSError, ValueError) as error:
            raise files.file_error(who, "write", filename, error) from None
        return filename

    def render_dot(dot_text, filename):
        dot_text, filename = (str(x) if x.__class__ is MutableString else x for x in (dot_text, filename))
        if dot_text.__class__ is not str or filename.__class__ is not str:
            fail("render-dot: expected DOT text and a file name")
        check_writable("render-dot", filename)
        svg = graphviz_svg(dot_text, "render-dot")
        if svg is None:
            fail("render-dot: Graphviz's dot program is not installed (apt-get install graphviz, "
                 "brew install graphviz, or https://graphviz.org/download); draw-tape and "
                 "tape->svg draw a tape without it")
        return write_file("render-dot", filename, svg)

    def draw_tape(f, *xs):
        """The tape of f's gradient at xs as a picture that nablisp lays out itself."""
        from ...ad.teaching import tape_svg_text
        from ..pictures import Picture

        def compute(f, xs):
            svg = tape_svg_text(interp.operators, f, *xs)
            return Picture("tape", f"the gradient tape of {procedure_name(getattr(f, '__name__', 'lambda'))}", svg)
        return interp.operators.operator("draw-tape", compute)(f, *xs)

    def tape_svg(f, *xs_and_file):
        """Graphviz's drawing of the tape when `dot` is installed, nablisp's own otherwise."""
        from ...ad.teaching import tape_dot, tape_svg_text
        filename = xs_and_file[-1] if xs_and_file else None
        if filename.__class__ is MutableString:
            filename = str(filename)
        if filename.__class__ is not str:
            fail("tape->svg: expected the arguments of f and then a file name (a string)")
        if not runtime.is_procedure(f):
            fail(f"tape->svg: expected a procedure to differentiate, got {write_string(f)}")
        xs = xs_and_file[:-1]
        check_writable("tape->svg", filename)
        svg = graphviz_svg(tape_dot(interp.operators, f, *xs), "tape->svg")
        if svg is None:
            svg = tape_svg_text(interp.operators, f, *xs, who="tape->svg").encode("utf-8")
        return write_file("tape->svg", filename, svg)

    def save_picture(picture, filename):
        from ..pictures import Picture, save_picture
        if filename.__class__ is MutableString:
            filename = str(filename)
        if picture.__class__ is not Picture:
            fail(f"save-picture: expected a picture, got {write_string(picture)}")
        if filename.__class__ is not str:
            fail(f"save-picture: expected a file name (a string), got {write_string(filename)}")
        return save_picture(picture, filename)

    def picture_p(x):
        from ..pictures import Picture
        return x.__class__ is Picture

    def picture_svg(picture):
        from ..pictures import Picture
        if picture.__class__ is not Picture:
            fail(f"picture->svg: expected a picture, got {write_string(picture)}")
        return MutableString(picture.svg)

    def get_environment_variable(name):
        if name.__class__ is MutableString:
            name = str(name)
        if name.__class__ is not str:
            fail(f"get-environment-variable: expected a string, got {write_string(name)}")
        value = files.environment_variable(name)
        return False if value is None else value

    def get_environment_variables():
        return make_list(make_pair(name, value) for name, value in files.environment_variables().items())

    def derivative_code(f):
        """The core forms generated for f's derivative, written as nablisp source."""
        from ..core import Lambda
        from ..show_core import core_datum
        if not runtime.is_procedure(f):
            fail(f"derivative-code: expected a procedure, got {write_string(f)}")
        generated = interp.operators.generated
        found = generated.lookup(f)
        if found is None:
            fail(f"derivative-code: the derivative of {procedure_name(getattr(f, '__name__', 'lambda'))} is "
                 f"computed with dual numbers, not generated code, because {generated.reason(f)}")
        node = found.node
        shown = Lambda(node.span, node.name)     # the captured variables, not parameters, as written
        shown.params = node.params[-1:]
        shown.body = node.body
        return core_datum(shown, let_star=True)

    def gradient_code(f, *xs):
        """The core forms generated for f's gradient (at arguments like xs), as nablisp source."""
        from itertools import product
        from ..show_core import core_datum
        from ...ad.source_reverse import LIST, NUMBER
        if not runtime.is_procedure(f):
            fail(f"gradient-code: expected a procedure, got {write_string(f)}")
        generated = interp.operators.generated
        if xs:
            # what gradient itself uses at such arguments: forward mode for few input numbers
            from ...ad.generated import MAX_FORWARD_DIRECTIONS
            from ...lang.datum import list_to_python
            lengths = tuple(len(list_to_python(x) or ()) if x.__class__ is Pair else None for x in xs)
            candidates = [tuple(LIST if x.__class__ is Pair else NUMBER for x in xs)]
            if sum(1 if n is None else n for n in lengths) <= MAX_FORWARD_DIRECTIONS:
                candidates.insert(0, ("forward",) + lengths)
        else:
            arity = runtime.arity(f)
            count = arity[0] if arity is not None else 1
            candidates = list(product((NUMBER, LIST), repeat=min(count, 3))) if count <= 3 else [(NUMBER,) * count]
        for kinds in candidates:
            found = generated.lookup_gradient(f, kinds)
            if found is not None:
                return core_datum(found.node, let_star=True)
        fail(f"gradient-code: the gradient of {procedure_name(getattr(f, '__name__', 'lambda'))} is computed "
             f"on the tape, not by generated code, because {generated.gradient_reason(f, candidates[-1])}")

    def hessian_code(f, *xs):
        """The core forms generated for f's Hessian at arguments like xs, as nablisp source."""
        from ..show_core import core_datum
        if not runtime.is_procedure(f):
            fail(f"hessian-code: expected a procedure, got {write_string(f)}")
        if not xs:
            fail("hessian-code: expected arguments like those of the Hessian after f: it is "
                 "generated for their shapes (numbers, lists of numbers)")
        generated = interp.operators.generated
        name = procedure_name(getattr(f, '__name__', 'lambda'))
        lengths = generated.input_lengths(xs)
        if lengths is None:
            fail(f"hessian-code: the Hessian of {name} at these arguments is computed by forward mode over "
                 "the tape, not by generated code, because they are not numbers or lists of numbers")
        from ...ad.generated import MAX_FORWARD_DIRECTIONS
        count = sum(1 if n is None else n for n in lengths)
        if count > MAX_FORWARD_DIRECTIONS:
            fail(f"hessian-code: the Hessian of {name} at {count} input numbers is computed by forward mode "
                 f"over the tape, not by generated code, which is made for at most {MAX_FORWARD_DIRECTIONS}")
        found = generated.lookup_hessian(f, lengths)
        if found is None:
            fail(f"hessian-code: the Hessian of {name} is computed by forward mode over the tape, not by "
                 f"generated code, because {generated.hessian_reason(f, lengths)}")
        return core_datum(found.node, let_star=True)

    def features():
        from ..derived import FEATURES
        return make_list(Symbol(name) for name in sorted(FEATURES))

    from .plots import plot_primitives
    return {
        **plot_primitives(interp),
        "eval": eval_,
        "load": load,
        "with-exception-handler": with_exception_handler,
        "raise": raise_,
        "error": error_,
        "raise-continuable": raise_continuable,
        "exit": exit_,
        "emergency-exit": emergency_exit,
        "command-line": command_line,
        "get-environment-variable": get_environment_variable,
        "get-environment-variables": get_environment_variables,
        "features": features,
        "derivative-code": derivative_code,
        "gradient-code": gradient_code,
        "hessian-code": hessian_code,
        "render-dot": render_dot,
        "draw-tape": draw_tape,
        "tape->svg": tape_svg,
        "save-picture": save_picture,
        "picture?": picture_p,
        "picture->svg": picture_svg,
        "interaction-environment": lambda: interp.default_env,
        "scheme-report-environment": r5rs_environment,
        "null-environment": r5rs_environment,
        "environment": environment,
        "current-second": lambda: time.time(),
        "current-jiffy": lambda: time.perf_counter_ns() // 1000,
        "jiffies-per-second": lambda: 1_000_000,
        "runtime": lambda: time.perf_counter(),
    }


# The primitives above are made anew for each interpreter; their documentation is the same.
for _name, _signature, _doc in [
    ("eval", "(eval expr [environment])",
     "The value of the datum expr evaluated in environment (the REPL's own by default), e.g. one "
     "that (environment '(scheme base)) gives."),
    ("load", "(load filename [environment])",
     "Read and evaluate every form of the nablisp file filename, in environment (the REPL's by "
     "default). A relative name means a file of the current directory, as for open-input-file, "
     "or else one beside the file being loaded."),
    ("with-exception-handler", "(with-exception-handler handler thunk)",
     "Call thunk with handler installed: a raise or an error in thunk calls (handler obj) where it "
     "happens, inside its dynamic-winds and parameterizations. For raise-continuable the handler's "
     "value is returned to the raise; after a raise or an error, a handler that returns lets the "
     "error go on outwards, to the handlers outside it and the nearest guard."),
    ("raise", "(raise obj)",
     "Raise obj (any value) as an exception: the nearest handler of with-exception-handler or guard "
     "gets it (a handler runs where the raise is, inside its dynamic-winds and parameterizations; a "
     "guard after unwinding to it); uncaught, it ends the program with an error that shows obj."),
    ("error", "(error message obj …)",
     "Raise an error object with message (a string) and the objs as irritants; uncaught, it "
     "stops the program with the message, the irritants and where it happened."),
    ("raise-continuable", "(raise-continuable obj)",
     "Raise obj to the nearest handler and return what the handler returns."),
    ("exit", "(exit [obj])",
     "End the program, running the after procedures of dynamic-wind: status 0 for #t or no "
     "argument, 1 for #f, an exact integer for itself (modulo 256)."),
    ("emergency-exit", "(emergency-exit [obj])",
     "End the program at once, without running the after procedures of dynamic-wind; the status as "
     "exit gives it."),
    ("command-line", "(command-line)",
     "The command line of the program as a list of strings: the script's name and its arguments."),
    ("get-environment-variable", "(get-environment-variable name)",
     "The value of the environment variable name as a string, or #f when it is not set."),
    ("get-environment-variables", "(get-environment-variables)",
     "The environment variables, as a list of (name . value) pairs of strings."),
    ("derivative-code", "(derivative-code f)",
     "The code nablisp generated for the derivative of f, a function of one number, as nablisp "
     "source: beside each number v of f its tangent dv, named after f's own variables, the seed dx "
     "= 1 folded into the products it starts. derivative uses this code for f where it can and dual "
     "numbers elsewhere; for those, derivative-code says why."),
    ("gradient-code", "(gradient-code f [x …])",
     "The code nablisp generated for the gradient of f (at arguments like x …: numbers or lists of "
     "numbers), as nablisp source: for up to four input numbers one forward pass carrying a tangent "
     "per input (d0v, d1v …); otherwise a forward sweep that keeps each loop iteration's inputs on a "
     "stack and a reverse sweep that computes each iteration again and accumulates the adjoints v̄ "
     "as locals. gradient uses this code where it can and the tape elsewhere; for those, "
     "gradient-code says why."),
    ("hessian-code", "(hessian-code f x …)",
     "The code nablisp generated for the Hessian of f at arguments like x … (up to four input "
     "numbers, or lists of them): the forward-mode code of f's gradient (gradient-code) "
     "differentiated again in every direction, each of its numbers v beside tangents d0v, d1v …, "
     "ending in the matrix of their rows. hessian uses this code where it can and forward mode over "
     "the tape elsewhere; for those, hessian-code says why."),
    ("features", "(features)",
     "The feature identifiers cond-expand tests (r7rs, nablisp, …), as a list of symbols."),
    ("render-dot", "(render-dot dot-text filename)",
     "Render Graphviz DOT text into the SVG file filename with Graphviz's dot program. An error "
     "when dot is not installed (tape->svg and draw-tape draw a tape without it)."),
    ("draw-tape", "(draw-tape f x …)",
     "The tape of f's gradient at x as a picture that nablisp lays out itself: one box per entry "
     "(its operation, value and adjoint), one edge per local partial, inputs at the bottom. A "
     "notebook shows it inline; the REPL writes it to a file and says where."),
    ("tape->svg", "(tape->svg f x … filename)",
     "Draw the tape of f's gradient at x into the SVG file filename: with Graphviz's dot when it "
     "is installed, as draw-tape draws it otherwise."),
    ("save-picture", "(save-picture picture filename)",
     "Write the SVG of picture (what plot and draw-tape return) to the file filename."),
    ("picture?", "(picture? obj)", "#t if obj is a picture (what plot and draw-tape return)."),
    ("picture->svg", "(picture->svg picture)", "The SVG text of picture, a string."),
    ("interaction-environment", "(interaction-environment)",
     "The REPL's environment, the one eval uses by default: the whole language and every definition "
     "made at the top level."),
    ("scheme-report-environment", "(scheme-report-environment version)",
     "An environment of R5RS's names, for eval; version must be 5."),
    ("null-environment", "(null-environment version)",
     "The same as scheme-report-environment (nablisp keeps no separate syntax-only environment); "
     "version must be 5."),
    ("environment", "(environment import-set …)",
     "An environment, for eval, that sees what the import sets give: (environment '(scheme base) "
     "'(nablisp))."),
    ("current-second", "(current-second)",
     "The time now in seconds since the start of 1970 (UTC), a float."),
    ("current-jiffy", "(current-jiffy)",
     "A count of jiffies (microseconds) from a fixed point, for measuring intervals; an exact integer."),
    ("jiffies-per-second", "(jiffies-per-second)", "The number of jiffies in a second: 1000000."),
    ("runtime", "(runtime)",
     "Seconds from a fixed point, a float with sub-microsecond resolution, for timing code (as MIT "
     "Scheme's runtime)."),
]:
    document(_name, _signature, _doc)


__all__ = ["session_primitives", "ErrorObject"]
