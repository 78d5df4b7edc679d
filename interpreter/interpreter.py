"""The Interpreter: one global environment, its syntax, its compiled code and its state.

Evaluating text reads all of it, expands and compiles all of it (so every read and syntax error
is reported before anything runs), then runs the forms in order.
"""

from __future__ import annotations

import sys
import threading
import weakref
from fractions import Fraction
from contextlib import contextmanager, nullcontext
from pathlib import Path

from ..ad.lift import G, lift
from ..ad.operators import Operators
from ..ad.tags import DifferentiationError, Dual, Tracked
from ..lang.datum import Span, Symbol, make_list
from ..lang.printer import write_string
from ..lang.reader import ReadError, read_all
from . import derived  # noqa: F401  (registers the derived special forms)
from . import runtime
from .compile import GENERATED_FILE, HELPER_NAMES, TOPLEVEL_NAME, Compiler
from .errors import (BACKTRACE_LIMIT, ErrorObject, InternalError, NablispError,
                     ResourceLimitError, ResourceLimitExceeded,
                     SchemeDifferentiationError, SchemeError,
                     SchemeExit, SchemeReadError, SchemeSyntaxError, fail, procedure_name,
                     python_error_message, unbound_global_name)
from .embedding import Procedure, python_procedure, to_python, to_scheme
from .expand import SPECIAL_FORMS, Expander, Literal, Special
from . import files
from .limits import Limits
from .parse_cache import read_cached
from .libraries import Environment, Libraries, display_name, global_key, is_program_start
from .primitives import (binary_ports, bytevectors, control, equivalence, file_ports,  # noqa: F401
                         lists, numbers, ports, text, vectors)
from .primitives.registry import BUILTINS, TAIL_BUILDERS, name_function

# stdlib/ sits next to interpreter/ both in the source tree and once installed as nablisp.stdlib
STDLIB = Path(__file__).resolve().parent.parent / "stdlib"

_RUNTIME_FILES = {runtime.__file__}
_STDLIB_PREFIX = str(STDLIB)


class Interpreter:
    """A nablisp session.  Independent instances share nothing but immutable built-ins."""

    def __init__(self, argv: list[str] | None = None, prelude: bool = True,
                 max_steps: int | None = None, timeout: float | None = None,
                 max_memory: int | None = None, sandbox: "bool | Policy" = False):
        """``max_steps``, ``timeout`` (seconds) and ``max_memory`` (bytes the process may grow
        by) bound every call of eval/evaluate/call — reading, expanding, compiling and running:
        a program that runs past them stops with an error, whatever handlers it installed.  A
        step is a procedure call, an iteration of a loop or a form expanded.  ``sandbox``: run
        untrusted code (True, or a `sandbox.Policy`): default limits, no file or environment
        access beyond what the policy grants, `exit` ending only the evaluation."""
        from .sandbox import Policy, SANDBOX_DEFAULTS
        if sandbox is True:
            sandbox = Policy()
        self.policy = sandbox or None
        if self.policy is not None:
            max_steps = SANDBOX_DEFAULTS["max_steps"] if max_steps is None else max_steps
            timeout = SANDBOX_DEFAULTS["timeout"] if timeout is None else timeout
            max_memory = SANDBOX_DEFAULTS["max_memory"] if max_memory is None else max_memory
        self.limits = Limits(max_steps, timeout, max_memory)
        self.argv = list(argv or [])
        self.spans: list = [None]
        self.helpers: dict = {}
        self.globals: dict = {"__builtins__": self.helpers}
        self.user_defined: set[str] = set()
        self.handlers: list = []
        self.loading: list[Path] = []
        self.closed_environments: dict[str, Environment] = {}
        self.program_env: Environment | None = None     # the top level of a program run with import
        self.reported_error: NablispError | None = None  # the error a front end reported and went on after
        self.default_env = Environment()
        self.default_env.bindings.update({Symbol(name): Special(name, handler, definition, rewrites)
                                          for name, (handler, definition, rewrites) in SPECIAL_FORMS.items()})
        self.global_syntax = self.default_env.bindings
        self.libraries = Libraries(self)
        self.expander = Expander(self.default_env, self.user_defined.add, self.libraries)
        self.compiler = Compiler(self.spans, self.helpers, self._is_builtin_procedure,
                                 self._is_builtin_name, TAIL_BUILDERS.__contains__)
        self.compiler.count_steps = self.limits.enabled
        self.expander.tick = self.limits.tick if self.limits.enabled else None
        self._install_helpers()
        self.globals.update(BUILTINS)
        self.globals.update(ports.BUILTIN_PARAMETERS)
        self._install_session_primitives()
        if prelude:
            self._depth = 1          # nablisp's own start-up is not the program's budget
            try:
                self._load_stdlib("prelude.scm")
            finally:
                self._depth = 0
        self.user_defined.clear()
        self.prelude_names = set(self.globals)
        self._system = dict(self.globals)
        self.libraries.install_builtin(self.default_env, self.globals,
                                       [name for name in self.globals if name != "__builtins__" and " " not in name]
                                       + [symbol.name for symbol in self.global_syntax])

    # -- what the derivative operators may read of compiled code ----------------------------------

    def read_procedure(self, procedure):
        """(code object, Lambda, free variables, their values, namespace) of a procedure
        compiled from nablisp code, or None; the values are None where they cannot be read
        as constants (a free variable assigned by set!, or not yet bound)."""
        procedure = getattr(procedure, "scheme_wrapped", procedure)
        code = getattr(procedure, "__code__", None)
        if code is None:
            return None
        layout = self._procedure_layouts.get(code)
        if layout is None:
            node = self.compiler.lambda_of_code.get(code)
            if node is None:
                return None
            from ..ad.source_forward import free_variables
            free = free_variables(node)
            index = {name: position for position, name in enumerate(code.co_freevars)}
            positions = [index.get(variable.python_name) for variable in free]
            if any(position is None for position in positions) or any(v.assigned for v in free):
                positions = None
            layout = self._procedure_layouts[code] = (node, free, positions)
        node, free, positions = layout
        values = None
        if positions is not None:
            cells = procedure.__closure__ or ()
            try:
                values = [cells[position].cell_contents for position in positions]
            except (ValueError, IndexError):
                values = None
        return code, node, free, values, procedure.__globals__

    def compile_generated(self, node, namespace: dict):
        return runtime.resolving(self.compiler.compile_procedure(node, namespace))

    # -- what the compiler may assume ------------------------------------------------------------

    def _is_builtin_name(self, name: str) -> bool:
        return name in BUILTINS

    def _is_builtin_procedure(self, name: str) -> bool:
        value = BUILTINS.get(name)
        return value is not None and name not in self.user_defined and self.globals.get(name) is value \
            and name not in TAIL_BUILDERS

    def _install_helpers(self):
        def check_set(name):
            if name not in self.globals:
                fail(f"set!: unbound variable: {display_name(name)}"
                     f"{self.did_you_mean(name)}")

        def define_global(value):
            code = getattr(value, "__code__", None)
            if code is not None and code.co_filename == GENERATED_FILE:
                return runtime.resolving(value)
            return value

        self.helpers.update({
            HELPER_NAMES["tick"]: self.limits.tick,
            HELPER_NAMES["tail_call"]: runtime.TailCall,
            HELPER_NAMES["make_tail_call"]: runtime.tail_call,
            HELPER_NAMES["run_tail"]: runtime.run_tail,
            HELPER_NAMES["rest_list"]: runtime.rest_list,
            HELPER_NAMES["check_set"]: check_set,
            HELPER_NAMES["define_global"]: define_global,
        })

    def _install_session_primitives(self):
        from .primitives.session import session_primitives
        for name, function in session_primitives(self).items():
            self.globals[name] = name_function(function, name) if hasattr(function, "__code__") else function
        self.operators = Operators(runtime.apply_procedure, runtime.arity)
        # imported here: the transformation reads core forms (interpreter/core.py), and this
        # package's __init__ imports this module
        from ..ad.generated import GeneratedDerivatives
        self._procedure_layouts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.operators.generated = GeneratedDerivatives(
            self.read_procedure, self.compile_generated,
            {global_key(name): value for name, value in BUILTINS.items()})
        self.globals.update(self.operators.table())

    # -- public API ------------------------------------------------------------------------------

    @property
    def max_steps(self):
        return self.limits.max_steps

    @property
    def timeout(self):
        return self.limits.timeout

    @property
    def max_memory(self):
        return self.limits.max_memory

    def eval(self, source: str, filename: str = "<string>"):
        """Evaluate every form of ``source``; return the value of the last one, as a Python value
        (embedding.py gives the rules)."""
        with self._limits():
            return to_python(self, self.evaluate(source, filename))

    def evaluate(self, source: str, filename: str = "<string>"):
        """Evaluate every form of ``source``; return the value of the last one, as it is."""
        with self._limits():
            return self.run_nodes(self.compile_text(source, filename))

    def compile_text(self, source: str, filename: str = "<string>", directives: dict | None = None,
                     operator=None):
        """The compiled forms of ``source``; with ``operator`` (a procedure), one call of it
        on them all, as the REPL's meta-commands make (`,tape (f 1 2)`: show-tape of f, 1, 2)."""
        with self._limits():
            self._where = Span(filename, 1, 1)
            try:
                data = read_all(source, filename, directives=directives)
            except ReadError as error:
                raise SchemeReadError(error.message, error.span) from None
            if operator is not None:
                span = data[0][1] if data else Span(filename, 1, 1)
                data = [(make_list([Literal(operator)] + [datum for datum, _ in data]), span)]
            return self.compile_data(data)

    def compile_data(self, data: list):
        return self._compile_in(self.expander.env, data)

    def _compile_in(self, env: Environment, data: list):
        with self._limits():
            if data and data[0][1] is not None:
                self._where = data[0][1]
            try:
                nodes = self.expander.expand_in(env, data)
                return list(zip(self.compiler.compile_forms(nodes, self.globals), (span for _, span in data)))
            except NablispError:
                raise
            except RecursionError:
                raise SchemeSyntaxError("program nested too deeply to expand",
                                        data[0][1] if data else None) from None
            except Exception as error:
                raise InternalError(f"while compiling: {type(error).__name__}: {error}",
                                    data[0][1] if data else None) from error

    def run_nodes(self, compiled):
        with self._limits():
            result = None
            for function, span in compiled:
                result = self.run(function, span)
            return result

    @contextmanager
    def _limits(self):
        """Bound the outermost evaluation in progress (reading, expanding, compiling, running)
        by the limits; at its end, what the program left behind (its handlers, a file being
        loaded) is cleared, and a limit or, in a sandbox, `exit` becomes an error."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        loading = list(self.loading)
        self._where = None
        try:
            self._depth = 1
            with self.limits.evaluation(), \
                    (self.policy.governing(self.limits) if self.policy is not None else nullcontext()):
                yield
        except ResourceLimitExceeded as limit:
            message = self.limits.tripped or str(limit.args[0] if limit.args else "resource limit exceeded")
            if limit.args and str(limit.args[0]).startswith(message):
                message = str(limit.args[0])      # with what was being allocated
            # where no frame of the program's shows (reading, expanding): the form at hand
            raise self.locate(ResourceLimitError(message), limit, self._where) from None
        except SchemeExit as exit_request:
            if self.policy is None:
                raise
            from .sandbox import ProgramExit
            raise ProgramExit(exit_request.code) from None
        finally:
            self._depth = 0
            del self.handlers[:]
            self.loading[:] = loading

    _depth = 0
    _where = None       # the form being read or expanded, for a limit that stops it

    def run(self, function, span=None):
        self._where = span
        try:
            return runtime.run_tail(function())
        except (KeyboardInterrupt, SchemeExit, runtime.ContinuationInvoked, BrokenPipeError,
                ResourceLimitExceeded):
            raise
        except NablispError as error:
            if isinstance(error, SchemeError) or error.span is None:
                self.locate(error, error, span)
            raise
        except Exception as error:
            translated = self.locate(self.translate(error), error, span)
            if isinstance(error, DifferentiationError) or _raised_by_generated_code(error):
                raise translated from None
            raise translated from error

    def load(self, path, program: bool = False, env: Environment | None = None) -> object:
        """Evaluate the file at ``path`` in ``env`` (the default environment when None); as a
        program (``program``: see `run_program`) for a script."""
        with self._limits():
            return self._load(Path(path), program, env)

    def _load(self, path: Path, program: bool, env: Environment | None):
        try:
            source = files.read_text(path, "load")
        except FileNotFoundError:
            raise SchemeError(ErrorObject(f"load: no such file: {path}", kind="file")) from None
        except UnicodeDecodeError:
            raise SchemeError(ErrorObject(f"load: {path} is not UTF-8 text", kind="file")) from None
        except OSError as error:
            raise SchemeError(ErrorObject(f"load: cannot read {path}: {error.strerror}", kind="file")) from None
        except ValueError:      # a NUL character in the name
            raise SchemeError(ErrorObject(f"load: {str(path)!r} is not a valid file name", kind="file")) from None
        self.loading.append(path.resolve())
        try:
            if program:
                return self.run_program(source, str(path))
            if env is None:
                return self.evaluate(source, str(path))
            try:
                data = read_all(source, str(path))
            except ReadError as error:
                raise SchemeReadError(error.message, error.span) from None
            return self.run_nodes(self._compile_in(env, data))
        finally:
            self.loading.pop()

    def run_program(self, source: str, filename: str):
        """Run a script: a program that begins with `import` has a top level of its own, which
        sees only what it imports (R7RS §5.1); any other script runs in the default
        environment, which has the whole language."""
        with self._limits():
            return self._run_program(source, filename)

    def _run_program(self, source: str, filename: str):
        try:
            data = read_all(source, filename)
        except ReadError as error:
            raise SchemeReadError(error.message, error.span) from None
        if data and is_program_start(data[0][0], self.default_env):
            self.program_env = self._closed_top_level("[program]")
            return self.run_nodes(self._compile_in(self.program_env, data))
        return self.run_nodes(self.compile_data(data))

    def _closed_top_level(self, prefix: str) -> Environment:
        env = Environment(prefix)
        self.closed_environments[prefix] = env      # what "did you mean" looks among
        for keyword in ("import", "define-library"):     # the declarations of a program or file
            env.bindings[Symbol(keyword)] = self.default_env.bindings[Symbol(keyword)]
        return env

    def load_library_file(self, path: Path, span):
        """Read a file that defines libraries (found by `import`); its forms are expanded, at
        once, so that the libraries it defines are known."""
        try:
            source = files.read_text(path, "import")
        except (OSError, ValueError) as error:
            raise SchemeSyntaxError(f"import: cannot read {path}: {getattr(error, 'strerror', None) or error}",
                                    span) from None
        try:
            data = read_all(source, str(path))
        except ReadError as error:
            raise SchemeReadError(error.message, error.span) from None
        for datum, where in data:
            if not is_program_start(datum, self.default_env) or datum.car.name != "define-library":
                raise SchemeSyntaxError("a library file holds define-library forms only, not "
                                        f"{write_string(datum)}", where)
        self.loading.append(path.resolve())
        try:
            self.run_nodes(self._compile_in(self._closed_top_level("[" + str(path) + "]"), data))
        finally:
            self.loading.pop()

    def _load_stdlib(self, name: str):
        """Load a file of the standard library; its parse is cached, since reading is most of the
        start-up time."""
        path = STDLIB / name
        source = path.read_text(encoding="utf-8")
        data = read_cached(source, str(path))
        self.loading.append(path)
        try:
            return self.run_nodes(self.compile_data(data))
        finally:
            self.loading.pop()

    def call(self, procedure, *args):
        """Apply a nablisp procedure (or the global named ``procedure``) to Python values."""
        if isinstance(procedure, str):
            procedure = self.lookup_value(procedure)
        procedure = to_scheme(procedure)
        arguments = tuple(to_scheme(arg) for arg in args)
        with self._limits():
            return to_python(self, self.run(lambda: runtime.apply_procedure(procedure, arguments)))

    def lookup(self, name: str):
        """The value of the global ``name``, as a Python value."""
        return to_python(self, self.lookup_value(name))

    def lookup_value(self, name: str):
        key = global_key(name)
        if key not in self.globals:
            raise SchemeError(ErrorObject(f"unbound variable: {name}"))
        return self.globals[key]

    def define(self, name: str, value):
        """Bind the global ``name``: a Python callable becomes a procedure that receives and
        returns Python values; any other value is converted."""
        if callable(value) and not isinstance(value, (type, Procedure)):
            value = python_procedure(self, name, value)
        else:
            value = to_scheme(value)
        self.globals[global_key(name)] = value
        self.user_defined.add(global_key(name))

    def define_primitive(self, name: str, function, partials=()):
        """Bind ``name`` to a numeric Python function with derivative rules: ``partials[i]``
        gives ∂function/∂(argument i) and receives arguments that may carry perturbations, so it
        should compute with the generic operations of ``Interpreter.ops`` (nablisp's own
        arithmetic) for its derivatives to nest.  ``function`` itself only sees plain numbers."""
        rules = tuple(_checked_rule(name, index, rule) for index, rule in enumerate(partials))

        def plain_call(*args):
            return to_scheme(function(*args))

        def primitive(*args):
            if rules and len(args) != len(rules):
                raise SchemeError(ErrorObject(f"{name}: expected {len(rules)} arguments, got {len(args)}"))
            for arg in args:
                if arg.__class__ is Dual or arg.__class__ is Tracked:
                    if not rules:
                        raise SchemeError(ErrorObject(f"{name}: no derivative rule was given"))
                    return lift(primitive, rules, args)
            try:
                return plain_call(*args)
            except (SchemeError, KeyboardInterrupt):
                raise
            except Exception as error:
                raise SchemeError(ErrorObject(f"{name}: {type(error).__name__}: {error}")) from error
        primitive.__name__ = primitive.__qualname__ = name
        self.globals[global_key(name)] = primitive
        self.user_defined.add(global_key(name))

    ops = G

    # Names with a space are the system's own (gensym), which no program can write.

    # -- the top level a session types at ---------------------------------------------------------

    def enter_program(self):
        """Go on at the top level of the program just run (`nablisp -i prog.scm`): a program that
        began with import sees what it imported and defined, and so does what is typed after it."""
        if self.program_env is not None:
            self.expander.env = self.program_env

    def top_level_syntax(self, name: str):
        """The syntax (special form or macro) ``name`` means at the session's top level, or None."""
        env = self.expander.env
        if not env.closed:
            return self.global_syntax.get(Symbol(name))
        binding = env.bindings.get(Symbol(name))
        return binding if binding is not None and binding.__class__ is not Symbol else None

    def system_procedure(self, name: str):
        """What ``name`` held when this interpreter started (a meta-command's own procedure, which
        neither the program's top level nor a redefinition changes)."""
        return self._system[global_key(name)]

    def top_level_key(self, name: str, define: bool = False) -> str | None:
        """The global the name means at the top level a session types at (``define``: the one a
        definition there makes); None for a name bound to syntax or not imported there."""
        env = self.expander.env
        if define or not env.closed:
            return env.define_variable(Symbol(name)) if define and env.closed else env.global_name(Symbol(name))
        binding = env.lookup(Symbol(name))
        return binding.name if binding.__class__ is Symbol else None

    def _top_level_names(self):
        """(global key, name) of the variables defined at the session's top level."""
        env = self.expander.env
        if not env.closed:
            return [(name, display_name(name)) for name in self.globals if " " not in name and name != "__builtins__"]
        prefix = env.prefix + " "
        return [(name, name[len(prefix):]) for name in self.globals if name.startswith(prefix)]

    def user_names(self) -> list[str]:
        closed = self.expander.env.closed
        return sorted(shown for name, shown in self._top_level_names()
                      if closed or name not in self.prelude_names or name in self.user_defined)

    def bound_names(self) -> list[str]:
        env = self.expander.env
        if env.closed:
            return sorted(set(shown for _, shown in self._top_level_names()) |
                          set(symbol.name for symbol in env.bindings))
        return sorted(set(shown for _, shown in self._top_level_names()) |
                      set(symbol.name for symbol in self.global_syntax))

    # -- errors ----------------------------------------------------------------------------------

    def translate(self, error: BaseException) -> NablispError:
        """A nablisp error for a Python exception that escaped compiled code or a primitive."""
        frames = _frames(error.__traceback__)
        message = python_error_message(error)
        if isinstance(error, TypeError) and "not callable" in str(error) and frames:
            code, _, frame = frames[-1]
            if code.co_filename in _RUNTIME_FILES and "result" in frame.f_locals:
                pending = frame.f_locals["result"]
                if isinstance(pending, runtime.TailCall):
                    from ..lang.printer import write_string
                    message = f"not a procedure: {write_string(pending.proc)}"
        unbound = unbound_global_name(error)
        if unbound is not None and message is not None:
            message += self.did_you_mean(unbound)
        if message is not None:
            if isinstance(error, DifferentiationError):
                return SchemeDifferentiationError(ErrorObject(message))
            return SchemeError(ErrorObject(message))
        # An exception from inside a primitive: name the primitive Scheme code called.
        primitive = None
        for index, (code, _, _) in enumerate(frames):
            if code.co_filename == GENERATED_FILE and index + 1 < len(frames):
                primitive = frames[index + 1][0].co_name
        if primitive is None and frames:
            primitive = frames[-1][0].co_name
        if primitive and not primitive.startswith(TOPLEVEL_NAME):
            wrapped = SchemeError(ErrorObject(f"{procedure_name(primitive)}: {error}"))
            # a primitive should have said what is wrong itself: the tests look for these
            wrapped.python_exception = type(error).__name__
            return wrapped
        return InternalError(f"{type(error).__name__}: {error}")

    def did_you_mean(self, global_name: str) -> str:
        """"; did you mean …?" naming the names closest to the unbound ``global_name`` that its
        top level sees (a program's own and imported names; the whole language otherwise), or ""."""
        import difflib
        name = display_name(global_name)
        prefix = global_name[:-len(name) - 1] if name != global_name else None
        environment = self.closed_environments.get(prefix) if prefix else None
        if environment is not None:
            candidates = {symbol.name for symbol in environment.bindings}
            candidates.update(display_name(other) for other in self.globals if other.startswith(prefix + " "))
        else:
            candidates = {other for other in self.bound_names() if not other.startswith("[")}
        candidates.discard(name)
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.75)
        if not close:
            return ""
        return "; did you mean " + " or ".join(close) + "?"

    def locate(self, error: NablispError, original: BaseException, fallback: Span | None):
        """Attach the span of the innermost Scheme form and a backtrace to ``error``."""
        trace = []
        for code, line, frame in _frames(original.__traceback__):
            if code.co_filename == GENERATED_FILE:
                span = self.spans[line] if 0 < line < len(self.spans) else None
                name = code.co_name
                trace.append((None if name.startswith(TOPLEVEL_NAME) else procedure_name(name), span))
            elif code.co_filename in _RUNTIME_FILES and "result" in frame.f_locals:
                pending = frame.f_locals["result"]
                if isinstance(pending, runtime.TailCall) and 0 < pending.site < len(self.spans):
                    trace.append((None, self.spans[pending.site]))
        located = [item for item in trace if item[1] is not None]
        if error.span is None:
            # where the user's code went wrong: a prelude procedure's check (iota of -1) is
            # reported at the call that gave it, and the backtrace still shows the prelude's frames
            users = [span for _, span in located if not span.file.startswith(_STDLIB_PREFIX)]
            if users:
                error.span = users[-1]
            elif fallback is not None and not fallback.file.startswith(_STDLIB_PREFIX):
                error.span = fallback       # the form that ran: its tail calls left no frames
            else:
                error.span = located[-1][1] if located else fallback
        if not error.backtrace:
            error.backtrace = _condense([(name, span) for name, span in trace if name is not None])
        return error


def _checked_rule(name: str, index: int, rule):
    """A partial given from Python, with what goes wrong in it said in the language's terms: a
    rule written with Python's operators or `math` works on plain numbers but not under a
    nested derivative, where its arguments are perturbed numbers."""
    if rule.__class__ is int:
        return rule
    which = f"the partial derivative with respect to argument {index + 1}"

    def partial(*args):
        try:
            value = rule(*args)
        except (NablispError, DifferentiationError, KeyboardInterrupt, RecursionError):
            raise
        except Exception as error:
            if any(arg.__class__ is Dual or arg.__class__ is Tracked for arg in args):
                raise DifferentiationError(
                    f"{name}: {which} cannot be differentiated again (it raised {type(error).__name__} "
                    f"when given a number being differentiated, as a nested derivative does); write it "
                    f"with nablisp's arithmetic, Interpreter.ops (ops.cos(x), ops.mul(a, b), …), "
                    f"instead of math functions or Python operators") from error
            raise DifferentiationError(f"{name}: {which} raised {type(error).__name__}: {error}") from error
        if value.__class__ not in (int, float, Fraction, Dual, Tracked):
            raise DifferentiationError(f"{name}: {which} returned {value!r}, not a number")
        return value
    return partial


def _condense(trace: list) -> list:
    """The innermost frames first, a run of identical frames (deep recursion) shown once."""
    condensed: list = []
    for name, span in reversed(trace):
        if condensed and condensed[-1][0] == name and condensed[-1][1] is span:
            condensed[-1][2] += 1
            continue
        if len(condensed) == BACKTRACE_LIMIT:
            break
        condensed.append([name, span, 1])
    return [(name if count == 1 else f"{name} ({count} times)", span) for name, span, count in condensed]


def _raised_by_generated_code(error) -> bool:
    frames = _frames(error.__traceback__)
    return bool(frames) and frames[-1][0].co_filename == GENERATED_FILE


def _frames(tb) -> list:
    frames = []
    while tb is not None:
        frames.append((tb.tb_frame.f_code, tb.tb_lineno, tb.tb_frame))
        tb = tb.tb_next
    return frames


def run_with_deep_stack(function, *args, stack_mb: int = 512, recursion_limit: int = 400_000):
    """Run ``function`` in a thread whose stack can hold deep (non-tail) Scheme recursion."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:   # handed to the calling thread as is
            outcome["error"] = error

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    sys.setrecursionlimit(max(old_limit, recursion_limit))
    threading.stack_size(stack_mb * 1024 * 1024)
    try:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
    finally:
        threading.stack_size(old_size)
    while thread.is_alive():
        thread.join(0.05)
    sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")

