"""The interactive REPL.

On a terminal it reads entries with prompt_toolkit: an entry is submitted when it is a complete
datum, otherwise Enter continues it on a new line.  Without a terminal there is no prompt at all:
forms are read from standard input one by one (cli.read_eval_print), so the REPL can be scripted.
"""

from __future__ import annotations

import sys

from .. import __version__
from ..lang.reader import ReadError, is_complete, read_all
from .errors import NablispError, SchemeExit, SchemeReadError

BANNER = f"nablisp {__version__} — a Scheme with first-class derivatives. ,help for help, Ctrl-D to quit."


def repl_main(interp, color: bool = True) -> int:
    from .cli import read_eval_print
    if not sys.stdin.isatty():
        return read_eval_print(interp, sys.stdin)
    return TerminalRepl(interp, color).run()


class TerminalRepl:
    def __init__(self, interp, color: bool):
        self.interp = interp
        self.color = color

    def session(self):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.key_binding import KeyBindings

        bindings = KeyBindings()

        @bindings.add("enter")
        def _(event):
            buffer = event.current_buffer
            if is_complete(buffer.text) or buffer.text.strip().startswith(","):
                buffer.validate_and_handle()
            else:
                buffer.insert_text("\n")

        return PromptSession(key_bindings=bindings, multiline=True,
                             prompt_continuation=lambda width, line, soft: "." * (width - 1) + " ")

    def run(self) -> int:
        from .cli import print_value, report
        print(BANNER)
        session = self.session()
        entry = 0
        while True:
            try:
                text = session.prompt("> ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            entry += 1
            if not text.strip():
                continue
            try:
                print_value(self.interp.evaluate(text, f"<repl:{entry}>"))
            except SchemeExit as exit_request:
                return exit_request.code
            except NablispError as error:
                report(error, sys.stdout)
            except KeyboardInterrupt:
                print("interrupted")


__all__ = ["repl_main", "ReadError", "read_all", "SchemeReadError"]
