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
from ..lang.datum import MultipleValues
from ..lang.printer import write_string
from ..lang.reader import is_complete, open_brackets
from .errors import NablispError, SchemeExit
from .limits import interrupt

BANNER = (f"nablisp {__version__} — Scheme with first-class derivatives.  "
          ",help for commands, Ctrl-D to quit.")

META_COMMANDS = {
    ",help": "this list",
    ",quit": "leave the REPL (Ctrl-D does too)",
    ",time EXPR": "evaluate EXPR and print how long it took",
    ",load FILE": "load a nablisp file",
    ",bt": "the Scheme backtrace of the last error",
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
                 "show-tape", "tape->dot", "tape->text", "tape->svg")


class Session:
    """The REPL without the terminal: meta-commands, evaluation, printing."""

    def __init__(self, interp, out=None):
        self.interp = interp
        self.out = out or sys.stdout
        self.entry = 0
        self.last_error: NablispError | None = None

    def write(self, text: str):
        self.out.write(text)
        self.out.flush()

    def handle(self, text: str) -> bool:
        """Run one entry; False when the session should end."""
        text = text.strip()
        if not text:
            return True
        self.entry += 1
        if text.startswith(","):
            return self.meta(text)
        self.evaluate_and_print(text)
        return True

    def evaluate_and_print(self, text: str, timed: bool = False):
        start = time.perf_counter()
        try:
            value = run_interruptibly(self.interp.evaluate, text, f"<repl {self.entry}>")
        except SchemeExit:
            raise
        except KeyboardInterrupt:
            self.write("interrupted\n")
            return
        except NablispError as error:
            self.last_error = error
            self.write(self.describe_error(error))
            return
        elapsed = time.perf_counter() - start
        try:
            self.print_value(value)
        except KeyboardInterrupt:
            self.write("\ninterrupted\n")
            return
        if timed:
            self.write(f"; {elapsed:.6f} s\n")

    def print_value(self, value):
        for item in (value if value.__class__ is MultipleValues else (value,)):
            if item is not None:
                self.write(write_string(item) + "\n")

    def describe_error(self, error: NablispError) -> str:
        text = error.located()
        text = re.sub(r"^<repl \d+>:", "", text)
        hint = "  (,bt shows the backtrace)" if error.backtrace else ""
        return f"{text}{hint}\n"

    # -- meta-commands ---------------------------------------------------------------------------

    def meta(self, text: str) -> bool:
        command, _, argument = text.partition(" ")
        argument = argument.strip()
        if command in (",quit", ",q", ",exit"):
            return False
        if command in (",help", ",h", ",?"):
            width = max(len(name) for name in META_COMMANDS)
            self.write("".join(f"  {name:<{width}}  {meaning}\n" for name, meaning in META_COMMANDS.items()))
        elif command == ",time":
            if not argument:
                self.write(",time needs an expression\n")
            else:
                self.evaluate_and_print(argument, timed=True)
        elif command == ",load":
            self.evaluate_and_print(f"(load {write_string(argument)})") if argument else self.write(",load needs a file name\n")
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
            names = self.interp.user_names()
            self.write((" ".join(names) if names else "(nothing defined yet)") + "\n")
        elif command == ",reset":
            from .collector import release_frozen, settle_collector
            from .interpreter import Interpreter
            release_frozen()            # the old environment may be collected
            self.interp = Interpreter(argv=self.interp.argv)
            settle_collector()
            self.last_error = None
            self.write("fresh environment\n")
        elif command == ",tape":
            if not argument.startswith("(") or not argument.endswith(")"):
                self.write(",tape needs a call such as (f 1 2)\n")
            else:
                self.evaluate_and_print(f"(show-tape {argument[1:]}")
        elif command == ",dot":
            expression, _, filename = argument.rpartition(" ")
            if not expression.startswith("(") or not filename:
                self.write(",dot needs a call and a file name: ,dot (f 1 2) graph.dot\n")
            else:
                self.write_dot(f"(tape->dot {expression[1:]}", filename)
        else:
            self.write(f"unknown command {command}; ,help lists the commands\n")
        return True

    def write_dot(self, expression: str, filename: str):
        try:
            text = run_interruptibly(self.interp.evaluate, expression, f"<repl {self.entry}>")
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
