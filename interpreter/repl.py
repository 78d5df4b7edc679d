"""The interactive REPL.

On a terminal it reads entries with prompt_toolkit: Enter submits an entry only when it is a
complete datum (otherwise it continues on an indented new line), names and meta-commands
complete with Tab, brackets are matched, code is highlighted.  Every entry is evaluated in a
worker thread with a deep stack; Ctrl-C during an evaluation interrupts it and the session goes
on.  Without a terminal there is no prompt at all: forms are read from standard input one by
one (cli.read_eval_print), so the REPL can be scripted.

`Session` holds what does not depend on the terminal (meta-commands, evaluation, printing), so
tests can drive it directly; `TerminalRepl` adds prompt_toolkit.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from pathlib import Path

from .. import __version__
from ..lang.datum import MultipleValues, Pair, Symbol, is_procedure
from ..lang.pretty import pretty_string
from ..lang.printer import write_string
from ..lang.reader import ReadError, is_complete, open_brackets, read_all
from .cli import fresh_line
from .errors import NablispError, SchemeExit, SchemeReadError
from .limits import interrupt
from .pictures import Picture, TerminalPictures

BANNER = (f"nablisp {__version__} — Scheme with first-class derivatives.  "
          ",help for commands, Ctrl-D to quit.")

META_COMMANDS = {
    ",help": "this list",
    ",quit": "leave the REPL (Ctrl-D does too)",
    ",time EXPR": "evaluate EXPR and print how long it took",
    ",pp EXPR": "evaluate EXPR and pretty-print its value (a matrix one row a line)",
    ",load FILE": "load a nablisp file (FILE bare or in quotes)",
    ",bt": "the Scheme backtrace of the last error",
    ",trace NAME…": "print every call of the procedures NAME… and what it returns",
    ",untrace NAME…": "stop tracing NAME… (all, without names)",
    ",expand FORM": "the core forms FORM expands to",
    ",code F": "the code generated for the derivative of the procedure F (or why there is none)",
    ",cd DIR": "change the current directory (home without DIR)",
    ",pwd": "the current directory",
    ",doc NAME": "what NAME is, takes and does",
    ",describe NAME": "the same as ,doc NAME",
    ",apropos WORD": "the names that contain WORD, then those whose documentation mentions it",
    ",env": "the names you have defined",
    ",reset": "start over with a fresh environment",
    ",tape EXPR": "evaluate EXPR (a call such as (f 1 2)) and show the tape of its gradient",
    ",dot EXPR FILE": "write the expression graph of the call EXPR as Graphviz DOT to FILE",
}

# highlighted as built-ins, beside the Scheme names pygments knows
AD_PROCEDURES = ("derivative", "D", "gradient", "grad", "gradient-forward", "jacobian", "jacobian-forward",
                 "jacobian-reverse", "hessian", "hessian-vector-product", "hvp", "jvp", "vjp",
                 "value-and-derivative", "value-and-gradient", "stop-gradient", "define-derivative",
                 "show-tape", "tape->dot", "tape->text", "tape->svg", "draw-tape", "derivative-code", "plot",
                 "plot-gradient-field", "plot-path")


class Session:
    """The REPL without the terminal: meta-commands, evaluation, printing.

    Every printed value is kept: `$` is the last, `$$` the one before, `$$$` the one before that
    (IPython's `_ __ ___`, Racket's `^ ^^ ^^^`, spelled with `$` because `_` is R7RS syntax).
    Values print bare, as in Racket and IPython, so a transcript reads as the session did."""

    HISTORY_NAMES = ("$", "$$", "$$$")
    TRACE_DEPTH_SHOWN = 12      # deeper calls of a traced procedure show their depth as [n]

    def __init__(self, interp, out=None, width: int | None = None):
        self.interp = interp
        self.out = out or sys.stdout
        self.width = width
        self.entry = 0
        self.entries: dict[int, str] = {}       # entry number → its text, to quote in errors
        self.directives: dict = {}              # #!fold-case lasts from entry to entry, one port
        # ,bt shows the error the program run before the REPL (nablisp -i) ended with, at first
        self.last_error: NablispError | None = interp.reported_error
        self.traced: dict[str, tuple] = {}      # name → (original procedure, its tracing wrapper)
        self.trace_depth = 0
        self.pictures = TerminalPictures()

    def write(self, text: str):
        self.out.write(text)
        self.out.flush()

    def line_width(self) -> int:
        if self.width is not None:
            return self.width
        isatty = getattr(self.out, "isatty", None)
        if isatty is not None and isatty():
            import shutil
            return max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        return 80

    def handle(self, text: str) -> bool:
        """Run one entry; False when the session should end."""
        text = text.strip()
        if not text:
            return True
        self.entry += 1
        self.entries[self.entry] = text
        try:
            if text.startswith(","):
                return self.meta(text)
            self.evaluate_and_print(text)
            return True
        finally:
            fresh_line()        # the prompt starts a line of its own: `(display "hello")` shows

    def evaluate_and_print(self, text: str, timed: bool = False, matrix_rows: bool = False, operator=None):
        """Evaluate every form of ``text`` (all read and expanded first) and print the value of
        each as soon as it has run: `1 2 3` prints three values.  With ``operator``, the one
        call of it on the forms (a meta-command's)."""
        start = time.perf_counter()

        def run_entry():
            for compiled in self.interp.compile_text(text, f"<repl {self.entry}>", self.directives, operator):
                value = self.interp.run_nodes([compiled])
                self.print_value(value, matrix_rows)

        try:
            run_interruptibly(run_entry)
        except SchemeExit:
            raise
        except KeyboardInterrupt:
            fresh_line()
            self.write("interrupted\n")
            return
        except NablispError as error:
            self.last_error = error
            fresh_line()
            self.write(self.describe_error(error))
            return
        if timed:
            self.write(f"; {time.perf_counter() - start:.6f} s\n")

    def print_value(self, value, matrix_rows: bool = False):
        for item in (value if value.__class__ is MultipleValues else (value,)):
            if item is not None:
                fresh_line()
                if item.__class__ is Picture:
                    # a terminal cannot show a picture: it goes to a file, and the REPL says where
                    self.write(self.pictures.shown(item) + "\n")
                else:
                    self.write(pretty_string(item, self.line_width(), matrix_rows) + "\n")
                self.remember(item)

    def remember(self, value):
        globals_ = self.interp.globals
        keys = [self.interp.top_level_key(name, define=True) for name in self.HISTORY_NAMES]
        for newer, older in zip(reversed(keys[:-1]), reversed(keys[1:])):
            if newer in globals_:
                globals_[older] = globals_[newer]
        globals_[keys[0]] = value

    def describe_error(self, error: NablispError) -> str:
        text = error.located()
        hint = "  (,bt shows the backtrace)" if error.backtrace else ""
        match = re.match(r"<repl (\d+)>:", text)
        if match is None:
            return f"{text}{hint}\n"
        number = int(match[1])
        if number == self.entry:
            return f"{text[match.end():]}{hint}\n"
        # an earlier entry (a procedure defined there): say which, and show the place
        quoted = ""
        source = self.entries.get(number)
        span = error.span
        if source is not None and span is not None and span.file == match[0][:-1]:
            lines = source.splitlines()
            if 0 < span.line <= len(lines):
                lead = f"  entry {number}: "
                quoted = f"{lead}{lines[span.line - 1]}\n{' ' * (len(lead) + span.column - 1)}^\n"
        return f"{text}{hint}\n{quoted}"

    # -- meta-commands ---------------------------------------------------------------------------

    def meta(self, text: str) -> bool:
        command, _, argument = text.partition(" ")
        argument = argument.strip()
        if command in (",quit", ",q", ",exit"):
            return False
        if command in (",help", ",h", ",?"):
            width = max(len(name) for name in META_COMMANDS)
            self.write("".join(f"  {name:<{width}}  {meaning}\n" for name, meaning in META_COMMANDS.items())
                       + "  $, $$, $$$ are the last three values printed.\n")
        elif command == ",time":
            if not argument:
                self.write(",time needs an expression\n")
            else:
                self.evaluate_and_print(argument, timed=True)
        elif command == ",pp":
            if not argument:
                self.write(",pp needs an expression\n")
            else:
                self.evaluate_and_print(argument, matrix_rows=True)
        elif command == ",load":
            path = self.file_argument(argument)
            if path is None:
                self.write(',load needs a file name: ,load file.scm or ,load "file.scm"\n')
            else:
                self.evaluate_and_print(write_string(path), operator=self.interp.system_procedure("load"))
        elif command == ",bt":
            if self.last_error is None:
                self.write("no error yet\n")
            elif not self.last_error.backtrace:
                self.write(f"{self.describe_error(self.last_error)}  (no Scheme procedures were active)\n")
            else:
                self.write(self.last_error.backtrace_text() + "\n")
        elif command in (",doc", ",describe"):
            self.write(self.describe(argument, command) + "\n")
        elif command == ",apropos":
            from .documentation import apropos_text
            self.write(apropos_text(self.interp, argument) + "\n")
        elif command == ",env":
            names = [name for name in self.interp.user_names() if name not in self.HISTORY_NAMES]
            self.write((" ".join(names) if names else "(nothing defined yet)") + "\n")
        elif command == ",reset":
            from .collector import release_frozen, settle_collector
            from .interpreter import Interpreter
            release_frozen()            # the old environment may be collected
            leaving_program = self.interp.expander.env.closed
            self.interp = Interpreter(argv=self.interp.argv)
            settle_collector()
            self.last_error = None
            self.traced.clear()
            self.write("fresh environment" + (" (the default one, with the whole language, not the program's)"
                                              if leaving_program else "") + "\n")
        elif command == ",tape":
            if not argument.startswith("(") or not argument.endswith(")"):
                self.write(",tape needs a call such as (f 1 2)\n")
            else:
                self.evaluate_and_print(argument[1:-1], operator=self.interp.system_procedure("show-tape"))
        elif command == ",dot":
            call, filename = self.call_and_file(argument)
            if call is None:
                self.write(",dot needs a call and a file name: ,dot (f 1 2) graph.dot\n")
            else:
                self.write_dot(call[1:-1], filename)
        elif command == ",trace":
            self.trace(argument.split())
        elif command == ",untrace":
            self.untrace(argument.split())
        elif command == ",expand":
            self.expand(argument)
        elif command == ",code":
            if not argument:
                self.write(",code needs a procedure: ,code (lambda (x) (* x (sin x)))\n")
            else:
                self.evaluate_and_print(argument, operator=self.interp.system_procedure("derivative-code"))
        elif command == ",pwd":
            self.write(os.getcwd() + "\n")
        elif command == ",cd":
            self.change_directory(argument)
        else:
            self.write(f"unknown command {command}; ,help lists the commands\n")
        return True

    @staticmethod
    def file_argument(argument: str) -> str | None:
        """A file name given bare (`file.scm`) or as a string literal (`"my file.scm"`)."""
        if not argument:
            return None
        if argument.startswith('"'):
            try:
                data = read_all(argument, "<command>")
            except ReadError:
                return None
            if len(data) != 1 or data[0][0].__class__ is not str:
                return None
            return data[0][0]
        return argument

    @staticmethod
    def call_and_file(argument: str):
        """(the text of the call, the file name) of `,dot (f 1 2) file`, or (None, None)."""
        try:
            data = read_all(argument, "<command>")
        except ReadError:
            return None, None
        if len(data) != 2 or data[0][0].__class__ is not Pair:
            return None, None
        filename = data[1][0]
        if filename.__class__ is Symbol:
            filename = filename.name
        if filename.__class__ is not str or not filename:
            return None, None
        return write_string(data[0][0]), filename

    def write_dot(self, arguments: str, filename: str):
        """tape->dot of the call whose parts are ``arguments``, written to ``filename``."""
        interp = self.interp

        def graph():
            compiled = interp.compile_text(arguments, f"<repl {self.entry}>",
                                           operator=interp.system_procedure("tape->dot"))
            return interp.run_nodes(compiled)
        try:
            text = run_interruptibly(graph)
            Path(filename).write_text(text, encoding="utf-8")
        except KeyboardInterrupt:
            self.write("interrupted\n")
        except NablispError as error:
            self.last_error = error
            self.write(self.describe_error(error))
        except OSError as error:
            self.write(f",dot: cannot write {filename}: {error.strerror}\n")
        else:
            self.write(f"wrote the expression graph to {filename} (render it: dot -Tsvg {filename} -o graph.svg)\n")

    def change_directory(self, argument: str):
        path = self.file_argument(argument) if argument else str(Path.home())
        if path is None:
            self.write(',cd needs a directory: ,cd src or ,cd "my dir"\n')
            return
        try:
            os.chdir(os.path.expanduser(path))
        except OSError as error:
            self.write(f",cd: cannot change to {path}: {error.strerror}\n")
            return
        self.write(os.getcwd() + "\n")

    # -- ,expand ---------------------------------------------------------------------------------

    def expand(self, argument: str):
        """Show the core forms ``argument`` expands to, without defining anything."""
        from .show_core import core_datum
        if not argument:
            self.write(",expand needs a form: ,expand (let ((x 1)) (* x x))\n")
            return
        interp = self.interp
        env = interp.expander.env
        saved = (dict(env.bindings), dict(env.imported), set(interp.user_defined))
        try:
            data = read_all(argument, f"<repl {self.entry}>")
            nodes = interp.expander.expand_in(env, data)
            texts = [pretty_string(core_datum(node), self.line_width()) for node in nodes]
        except ReadError as error:
            self.write(self.describe_error(SchemeReadError(error.message, error.span)))
            return
        except NablispError as error:
            self.write(self.describe_error(error))
            return
        except RecursionError:
            self.write(",expand: the form is nested too deeply to show\n")
            return
        finally:
            # expanding a define or define-syntax must not define it
            env.bindings.clear()
            env.bindings.update(saved[0])
            env.imported.clear()
            env.imported.update(saved[1])
            interp.user_defined.clear()
            interp.user_defined.update(saved[2])
        self.write("".join(text + "\n" for text in texts))

    # -- ,trace ----------------------------------------------------------------------------------

    def trace(self, names: list[str]):
        """Wrap the global procedures ``names`` so that every call through their names prints
        its arguments and its result, indented by how deeply traced calls nest: `>(f 1)` and
        `<2`, as Racket's trace writes them (and no line begins as a prompt does)."""
        if not names:
            self.write(f"traced: {' '.join(sorted(self.traced)) or '(nothing)'}\n")
            return
        for name in names:
            key = self.interp.top_level_key(name)
            value = self.interp.globals.get(key) if key is not None else None
            if name in self.traced and value is self.traced[name][1]:
                self.write(f"{name} is traced already\n")
            elif value is None:
                self.write(f"{name} is not bound{self.interp.did_you_mean(name)}\n")
            elif not is_procedure(value):
                self.write(f"{name} is not a procedure: {write_string(value)}\n")
            else:
                self.traced[name] = (value, self.tracing(name, value))
                self.interp.globals[key] = self.traced[name][1]
                self.write(f"tracing {name}\n")

    def untrace(self, names: list[str]):
        for name in names or sorted(self.traced):
            if name not in self.traced:
                self.write(f"{name} is not traced\n")
                continue
            original, wrapper = self.traced.pop(name)
            key = self.interp.top_level_key(name)
            if key is not None and self.interp.globals.get(key) is wrapper:     # not redefined since
                self.interp.globals[key] = original
            self.write(f"{name} is not traced any more\n")

    def tracing(self, name: str, procedure):
        from ..lang.printer import abbreviated_write_string
        from .runtime import apply_procedure
        session = self

        def text(value) -> str:
            return abbreviated_write_string(value, max(session.line_width() // 2, 40))

        def traced(*args):
            depth = session.trace_depth
            prefix = "  " * min(depth, self.TRACE_DEPTH_SHOWN) + (f"[{depth}] " if depth > self.TRACE_DEPTH_SHOWN else "")
            session.write(f"{prefix}>({name}{''.join(' ' + text(arg) for arg in args)})\n")
            session.trace_depth = depth + 1
            try:
                result = apply_procedure(procedure, list(args))
            finally:
                session.trace_depth = depth
            shown = " ".join(text(v) for v in result) if result.__class__ is MultipleValues else text(result)
            session.write(f"{prefix}<{shown}\n")
            return result
        traced.__name__ = traced.__qualname__ = getattr(procedure, "__name__", name)
        traced.scheme_wrapped = getattr(procedure, "scheme_wrapped", procedure)   # its arity
        return traced

    def describe(self, name: str, command: str = ",doc") -> str:
        from .documentation import describe
        if not name:
            return f"{command} needs a name"
        return describe(self.interp, name)


# ---------------------------------------------------------------------------------------------
# Evaluation that Ctrl-C can interrupt.

def run_interruptibly(function, *args):
    """Run ``function`` in a worker thread with a deep stack.  Ctrl-C (KeyboardInterrupt in the
    main thread) is passed on into the worker, whose try/finally blocks then unwind (handlers,
    parameters, dynamic-wind), and re-raised here once the worker has stopped."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:
            outcome["error"] = error

    previous_size = threading.stack_size()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 400_000))
    threading.stack_size(512 * 1024 * 1024)
    try:
        worker = threading.Thread(target=target, daemon=True)
        worker.start()
    finally:
        threading.stack_size(previous_size)
    interrupted = False
    while worker.is_alive():
        try:
            worker.join(0.05)
        except KeyboardInterrupt:
            interrupted = True
            interrupt(worker.ident)     # sticky where the session is limited: no handler goes on
    if interrupted or isinstance(outcome.get("error"), KeyboardInterrupt):
        raise KeyboardInterrupt
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# ---------------------------------------------------------------------------------------------
# The terminal.

def history_path() -> Path | None:
    """Where whole entries are remembered: $NABLISP_HISTORY, else ~/.nablisp_history; None
    when that file cannot be written (the REPL then keeps history in memory only)."""
    configured = os.environ.get("NABLISP_HISTORY")
    path = Path(configured) if configured else Path.home() / ".nablisp_history"
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:
        return None
    return path


def indentation(text: str) -> int:
    """Two spaces for every bracket still open in ``text``."""
    return 2 * open_brackets(text)


class SchemeCompleter:
    """Completes the bound names of the session and the meta-commands."""

    def __init__(self, session: Session):
        self.session = session

    def get_completions(self, document, complete_event):
        from prompt_toolkit.completion import Completion
        text = document.text_before_cursor
        if text.lstrip().startswith(",") and " " not in text.strip():
            word = text.strip()
            for command in META_COMMANDS:
                name = command.split(" ")[0]
                if name.startswith(word):
                    yield Completion(name, start_position=-len(word))
            return
        match = re.search(r"[^\s()\[\]'`,\"]*$", text)
        word = match.group(0) if match else ""
        if not word:
            return
        from .documentation import completion_meta
        for name in self.session.interp.bound_names():
            if name.startswith(word) and name != word:
                yield Completion(name, start_position=-len(word),
                                 display_meta=completion_meta(self.session.interp, name))

    async def get_completions_async(self, document, complete_event):
        for completion in self.get_completions(document, complete_event):
            yield completion


def nablisp_lexer():
    """Pygments' Scheme lexer, which also knows nablisp's own procedures as built-ins."""
    from pygments.lexers import SchemeLexer
    from pygments.token import Name

    own = set(AD_PROCEDURES)

    class NablispLexer(SchemeLexer):
        name = "nablisp"

        def get_tokens_unprocessed(self, text):
            for index, token, value in super().get_tokens_unprocessed(text):
                if token in Name and value in own:
                    token = Name.Builtin
                yield index, token, value

    return NablispLexer


class TerminalRepl:
    def __init__(self, interp, color: bool = True, input=None, output=None):
        self.session = Session(interp)
        self.color = color
        self.input = input
        self.output = output

    def make_prompt_session(self):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.completion import DynamicCompleter
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.layout.processors import HighlightMatchingBracketProcessor
        from prompt_toolkit.lexers import PygmentsLexer

        bindings = KeyBindings()

        @bindings.add("enter")
        def _(event):
            buffer = event.current_buffer
            text = buffer.text
            if text.strip().startswith(",") or is_complete(text):
                buffer.validate_and_handle()
            else:
                buffer.insert_text("\n" + " " * indentation(buffer.document.text_before_cursor))

        @bindings.add("c-c")
        def _(event):
            event.current_buffer.reset()

        path = history_path()
        history = FileHistory(str(path)) if path is not None else InMemoryHistory()
        completer = SchemeCompleter(self.session)
        options = dict(key_bindings=bindings, multiline=True, history=history,
                       completer=DynamicCompleter(lambda: completer), complete_while_typing=False,
                       prompt_continuation=lambda width, line, soft: "." * (width - 1) + " ",
                       input_processors=[HighlightMatchingBracketProcessor()],
                       input=self.input, output=self.output)
        if self.color:
            options["lexer"] = PygmentsLexer(nablisp_lexer())
        return PromptSession(**options)

    def run(self) -> int:
        fresh_line()        # after the output of the program run before (nablisp -i)
        print(BANNER, flush=True)
        prompt_session = self.make_prompt_session()
        while True:
            try:
                text = prompt_session.prompt("> ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            try:
                if not self.session.handle(text):
                    return 0
            except SchemeExit as exit_request:
                return exit_request.code
