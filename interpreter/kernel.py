"""The Jupyter kernel: nablisp in a notebook, on ipykernel's Kernel base class.

A kernel is one interpreter: every cell of the notebook runs in it, so what one cell defines
the next one sees.  A cell is a sequence of forms, run as a REPL entry is (meta-commands such
as `,tape` too); its value is shown as display data (text as the REPL prints it, SVG for a
picture, an HTML table for a matrix), what it prints streams out while it runs, an error
comes back with its place (`<cell N>:line:col`) and Scheme backtrace, and an interrupt stops
the cell and keeps the session.

    python -m nablisp.interpreter.kernel install [--user | --sys-prefix | --prefix DIR]

registers the kernel with Jupyter (`nablisp --install-kernel` is the same with --user).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

try:
    from ipykernel.kernelbase import Kernel
except ImportError as error:       # pragma: no cover - the message is the point
    raise ImportError("the nablisp kernel needs ipykernel: pip install 'nablisp[jupyter]'") from error

from .. import __version__
from ..lang.datum import MultipleValues
from ..lang.reader import is_complete
from .display_data import display_data
from .errors import NablispError, SchemeExit
from .interpreter import Interpreter
from .repl import BANNER, META_COMMANDS, Session, run_interruptibly

KERNEL_NAME = "nablisp"
WORD_BEFORE = re.compile(r"[^\s()\[\]'`,\"]*$")
WORD_AFTER = re.compile(r"^[^\s()\[\]'`,\"]*")


def documentation(session: Session, name: str) -> str | None:
    """What `,describe NAME` says about ``name``, None when it is not bound: the kernel's
    inspection (Shift-Tab in a notebook) shows it."""
    text = session.describe(name)
    return None if text.endswith("is not bound") else text


class _CurrentStdout:
    """sys.stdout as it is when written to: the kernel's stream to the notebook."""

    def write(self, text):
        sys.stdout.write(text)

    def flush(self):
        sys.stdout.flush()


def _flush_streams():
    """What the cell printed goes out before its value or error does."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()


class NablispKernel(Kernel):
    implementation = "nablisp"
    implementation_version = __version__
    language = "scheme"
    language_version = __version__
    language_info = {
        "name": "scheme",
        "version": __version__,
        "mimetype": "text/x-scheme",
        "file_extension": ".scm",
        "codemirror_mode": "scheme",
        "pygments_lexer": "scheme",
    }
    banner = BANNER

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # not `session`: the base class has one, the connection to the front end
        self.repl = Session(Interpreter(), out=_CurrentStdout())

    # -- execution -------------------------------------------------------------------------------

    async def do_execute(self, code, silent, store_history=True, user_expressions=None,
                         allow_stdin=False, *, cell_meta=None, cell_id=None):
        session = self.repl
        session.entry = self.execution_count
        self._stream_to_this_cell()
        text = code.strip()
        if not text:
            return self._ok()
        if text.startswith(","):
            try:
                session.handle(text)
            except SchemeExit:
                return self._error(self._exit_refused(), silent)
            return self._ok()
        try:
            value = run_interruptibly(session.interp.evaluate, code, f"<cell {self.execution_count}>")
        except KeyboardInterrupt:
            return self._error(("interrupted", "interrupted", ["interrupted; the session goes on"]), silent)
        except SchemeExit:
            return self._error(self._exit_refused(), silent)
        except NablispError as error:
            session.last_error = error
            lines = [error.located()] + ([error.backtrace_text()] if error.backtrace else [])
            return self._error((type(error).__name__, error.message, lines), silent)
        if not silent:
            _flush_streams()
            self._show(value)
        return self._ok()

    def _stream_to_this_cell(self):
        """Cells run in a worker thread (a deep stack, and Ctrl-C reaches it), which does not see
        the request's context; ipykernel's streams then fall back to their global parent, which
        is set here so that what the cell prints goes out as the cell's output."""
        parent = self.get_parent("shell") if hasattr(self, "get_parent") else self._parent_header
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "set_parent"):
                stream.set_parent(parent)

    def _show(self, value):
        """The cell's value; several values (from `values`) are shown one after another."""
        items = [item for item in (value if value.__class__ is MultipleValues else (value,))
                 if item is not None]
        for item in items[:-1]:
            self.send_response(self.iopub_socket, "display_data", {"data": display_data(item), "metadata": {}})
        if items:
            self.send_response(self.iopub_socket, "execute_result",
                               {"execution_count": self.execution_count,
                                "data": display_data(items[-1]), "metadata": {}})

    @staticmethod
    def _exit_refused():
        return ("exit", "exit does not end a notebook's session",
                ["exit: the kernel keeps running; restart it (Kernel → Restart) to start over"])

    def _ok(self):
        return {"status": "ok", "execution_count": self.execution_count,
                "payload": [], "user_expressions": {}}

    def _error(self, error, silent):
        ename, evalue, traceback = error
        content = {"ename": ename, "evalue": evalue, "traceback": traceback}
        if not silent:
            _flush_streams()
            self.send_response(self.iopub_socket, "error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}

    # -- completion and inspection ---------------------------------------------------------------

    async def do_complete(self, code, cursor_pos):
        before = code[:cursor_pos]
        line = before.rsplit("\n", 1)[-1]
        if line.lstrip().startswith(",") and " " not in line.strip():
            word = line.strip()
            names = [command.split(" ")[0] for command in META_COMMANDS]
        else:
            word = WORD_BEFORE.search(before).group(0)
            names = self.repl.interp.bound_names() if word else []
        matches = sorted(name for name in names if name.startswith(word))
        return {"status": "ok", "matches": matches, "cursor_start": cursor_pos - len(word),
                "cursor_end": cursor_pos, "metadata": {}}

    async def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        name = WORD_BEFORE.search(code[:cursor_pos]).group(0) + WORD_AFTER.search(code[cursor_pos:]).group(0)
        text = documentation(self.repl, name) if name else None
        if text is None:
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        return {"status": "ok", "found": True, "data": {"text/plain": text}, "metadata": {}}

    async def do_is_complete(self, code):
        if code.strip().startswith(",") or is_complete(code):
            return {"status": "complete"}
        return {"status": "incomplete", "indent": "  "}


# ---------------------------------------------------------------------------------------------
# Registering the kernel with Jupyter.

def kernel_spec() -> dict:
    return {
        "argv": [sys.executable, "-m", "nablisp.interpreter.kernel", "-f", "{connection_file}"],
        "display_name": "nablisp",
        "language": "scheme",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def install(user: bool = False, prefix: str | None = None) -> str:
    """Install the kernel spec; returns the directory Jupyter will find it in."""
    from jupyter_client.kernelspec import KernelSpecManager
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "kernel.json").write_text(json.dumps(kernel_spec(), indent=2), encoding="utf-8")
        return KernelSpecManager().install_kernel_spec(directory, KERNEL_NAME, user=user, prefix=prefix)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["install"]:
        parser = argparse.ArgumentParser(prog="python -m nablisp.interpreter.kernel install",
                                         description="Register the nablisp kernel with Jupyter.")
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--user", action="store_true", help="for the current user (the default)")
        where.add_argument("--sys-prefix", action="store_true",
                           help="in this Python's prefix (a virtual environment's own Jupyter)")
        where.add_argument("--prefix", metavar="DIR", help="under DIR/share/jupyter/kernels")
        options = parser.parse_args(argv[1:])
        prefix = sys.prefix if options.sys_prefix else options.prefix
        path = install(user=prefix is None, prefix=prefix)
        print(f"installed the nablisp kernel in {path}")
        return 0
    from ipykernel.kernelapp import IPKernelApp
    IPKernelApp.launch_instance(argv=argv, kernel_class=NablispKernel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
