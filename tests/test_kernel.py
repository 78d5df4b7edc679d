"""The Jupyter kernel, started as Jupyter starts it: registered with the install command, run
by jupyter_client's KernelManager from its kernel spec, and spoken to over the protocol."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

pytest.importorskip("ipykernel")
jupyter_client = pytest.importorskip("jupyter_client")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

TIMEOUT = 60


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory):
    """The kernel installed by its documented command into a prefix of its own."""
    prefix = tmp_path_factory.mktemp("jupyter-prefix")
    result = subprocess.run([sys.executable, "-m", "nablisp.interpreter.kernel", "install",
                             "--prefix", str(prefix)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    kernels = prefix / "share" / "jupyter" / "kernels"
    assert "installed the nablisp kernel in" in result.stdout
    return [str(kernels)]


class Kernel:
    """A running kernel and a client of it."""

    def __init__(self, kernel_dirs):
        self.manager = KernelManager(kernel_name="nablisp",
                                     kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=TIMEOUT)

    def run(self, code: str, timeout: float = TIMEOUT):
        """Execute ``code``; (reply content, [(iopub message type, content), …] of this request).
        Not stop_on_error: after an error reply ipykernel aborts the requests queued behind it,
        and one sent just after the reply can race with the end of that aborting."""
        msg_id = self.client.execute(code, stop_on_error=False)
        return self.collect(msg_id, timeout)

    def collect(self, msg_id, timeout=TIMEOUT):
        messages = []
        deadline = time.monotonic() + timeout
        while True:
            message = self.client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 1))
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"]["execution_state"] == "idle":
                break
            if kind in ("stream", "execute_result", "display_data", "error"):
                messages.append((kind, message["content"]))
        reply = self.client.get_shell_msg(timeout=timeout)
        assert reply["parent_header"]["msg_id"] == msg_id
        return reply["content"], messages

    def request(self, send, *args):
        msg_id = send(*args)
        reply = self.client.get_shell_msg(timeout=TIMEOUT)
        assert reply["parent_header"]["msg_id"] == msg_id
        return reply["content"]

    def stop(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(kernel_dirs):
    running = Kernel(kernel_dirs)
    yield running
    running.stop()


def results(messages):
    return [content["data"] for kind, content in messages if kind == "execute_result"]


def stdout(messages):
    return "".join(content["text"] for kind, content in messages
                   if kind == "stream" and content["name"] == "stdout")


def test_the_spec_runs_this_python_with_signal_interrupts(kernel_dirs):
    spec = json.loads(open(f"{kernel_dirs[0]}/nablisp/kernel.json", encoding="utf-8").read())
    assert spec["argv"][:3] == [sys.executable, "-m", "nablisp.interpreter.kernel"]
    assert spec["interrupt_mode"] == "signal" and spec["language"] == "scheme"


def test_kernel_info_names_the_language(kernel):
    info = kernel.request(kernel.client.kernel_info)
    assert info["implementation"] == "nablisp"
    assert info["language_info"]["name"] == "scheme"
    assert info["language_info"]["file_extension"] == ".scm"


def test_a_cell_is_a_sequence_of_forms_and_shows_the_last_value(kernel):
    reply, messages = kernel.run("(define (cube x) (* x x x))\n(display \"cubing\")\n(newline)\n((D cube) 2)")
    assert reply["status"] == "ok"
    assert stdout(messages) == "cubing\n"
    assert results(messages) == [{"text/plain": "12"}]
    # definitions persist into the next cell: one interpreter for the whole notebook
    reply, messages = kernel.run("(cube 3)")
    assert results(messages) == [{"text/plain": "27"}]


def test_values_are_shown_as_the_repl_writes_them(kernel):
    _, messages = kernel.run('(list 1/2 "two" #\\c (vector 1.5 \'sym))')
    assert results(messages) == [{"text/plain": '(1/2 "two" #\\c #(1.5 sym))'}]
    _, messages = kernel.run("(define unused 1)")
    assert results(messages) == []      # a definition has no value to show
    _, messages = kernel.run("(values 1 2)")
    shown = [content["data"]["text/plain"] for kind, content in messages if kind in ("display_data", "execute_result")]
    assert shown == ["1", "2"]


def test_output_streams_while_the_cell_runs(kernel):
    """The first line arrives as its own message, flushed before the second is printed; held
    back to the end, both would come in one message."""
    reply, messages = kernel.run("(display \"first\") (newline) (flush-output-port)\n"
                                 "(let wait ((t (current-jiffy)))"
                                 "  (if (< (- (current-jiffy) t) (* 1/2 (jiffies-per-second))) (wait t)))\n"
                                 "(display \"second\") (newline) 'done")
    assert reply["status"] == "ok"
    streams = [content["text"] for kind, content in messages if kind == "stream"]
    assert streams[0] == "first\n" and "".join(streams) == "first\nsecond\n"
    assert results(messages) == [{"text/plain": "done"}]


def test_standard_error_streams_too_before_the_value(kernel):
    _, messages = kernel.run('(write-string "a warning" (current-error-port)) (newline (current-error-port)) 5')
    assert messages[0] == ("stream", {"name": "stderr", "text": "a warning\n"})
    assert results(messages) == [{"text/plain": "5"}]


def test_reading_standard_input_finds_its_end_instead_of_hanging(kernel):
    _, messages = kernel.run("(eof-object? (read-line))")
    assert results(messages) == [{"text/plain": "#t"}]


def test_an_error_names_cell_line_and_column_and_has_the_backtrace(kernel):
    reply, messages = kernel.run("(define (first-of x)\n  (car x))\n(first-of 5)")
    assert reply["status"] == "error"
    count = reply["execution_count"]
    errors = [content for kind, content in messages if kind == "error"]
    assert len(errors) == 1
    assert errors[0]["evalue"] == "car: expected a pair, got 5"
    assert errors[0]["traceback"][0] == f"<cell {count}>:2:3: error: car: expected a pair, got 5"
    assert f"in first-of at <cell {count}>:2:3" in "\n".join(errors[0]["traceback"][1:])
    assert reply["traceback"] == errors[0]["traceback"]
    # the definition made before the error is kept
    _, messages = kernel.run("(first-of '(7))")
    assert results(messages) == [{"text/plain": "7"}]


def test_a_syntax_error_is_reported_before_anything_runs(kernel):
    reply, messages = kernel.run("(display \"ran\")\n(if)")
    assert reply["status"] == "error"
    assert stdout(messages) == ""
    assert reply["traceback"][0].startswith(f"<cell {reply['execution_count']}>:2:1: ")


def test_exit_does_not_end_the_kernel(kernel):
    reply, _ = kernel.run("(exit 3)")
    assert reply["status"] == "error" and "kernel keeps running" in reply["traceback"][0]
    _, messages = kernel.run("(+ 1 2)")
    assert results(messages) == [{"text/plain": "3"}]


def test_interrupt_stops_the_cell_and_keeps_the_session(kernel):
    kernel.run("(define kept 42)")
    msg_id = kernel.client.execute("(display \"looping\") (newline) (flush-output-port)\n"
                                   "(let loop ((i 0)) (loop (+ i 1)))", stop_on_error=False)
    # wait until the loop is running (its output has come), then interrupt as Jupyter does
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        message = kernel.client.get_iopub_msg(timeout=TIMEOUT)
        if message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "stream":
            break
    kernel.manager.interrupt_kernel()
    reply = kernel.client.get_shell_msg(timeout=TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "interrupted"
    reply, messages = kernel.run("kept")
    assert results(messages) == [{"text/plain": "42"}], (reply, messages)


def test_completion_offers_bound_names(kernel):
    kernel.run("(define (my-special-function x) x)")
    code = "(map my-spe"
    content = kernel.request(kernel.client.complete, code, len(code))
    assert content["matches"] == ["my-special-function"]
    assert (content["cursor_start"], content["cursor_end"]) == (5, len(code))
    code = "((hess"
    content = kernel.request(kernel.client.complete, code, len(code))
    assert content["matches"] == ["hessian", "hessian-code", "hessian-vector-product"]
    content = kernel.request(kernel.client.complete, ",ta", 3)
    assert content["matches"] == [",tape"]


def test_inspection_shows_the_documentation(kernel):
    code = "((gradient f) 1)"
    content = kernel.request(kernel.client.inspect, code, 4)        # the cursor inside `gradient`
    assert content["found"] is True
    assert "reverse mode" in content["data"]["text/plain"]
    kernel.run("(define (halve x) (/ x 2))")
    content = kernel.request(kernel.client.inspect, "(halve 3)", 3)
    assert content["data"]["text/plain"].startswith("halve is a procedure")
    content = kernel.request(kernel.client.inspect, "(plot sin 0 1)", 5)     # the cursor after `plot`
    assert "(plot f from to" in content["data"]["text/plain"]
    content = kernel.request(kernel.client.inspect, "(no-such-name 3)", 3)
    assert content["found"] is False


def test_is_complete_follows_the_brackets(kernel):
    assert kernel.request(kernel.client.is_complete, "(define (f x)")["status"] == "incomplete"
    assert kernel.request(kernel.client.is_complete, "(define (f x) x)")["status"] == "complete"


def test_meta_commands_work_in_cells(kernel):
    kernel.run("(define (area w h) (* w h))")
    reply, messages = kernel.run(",tape (area 3 4)")
    assert reply["status"] == "ok"
    assert "forward sweep:" in stdout(messages) and "gradient: (4 3)" in stdout(messages)


def test_pictures_and_matrices_are_display_data(kernel):
    _, messages = kernel.run("(draw-tape (lambda (x y) (* (sin x) y)) 1.0 2.0)")
    [data] = results(messages)
    assert data["text/plain"].startswith("#<picture tape")
    assert data["image/svg+xml"].count('<g class="node"') == 4
    _, messages = kernel.run("(hessian (lambda (v) (* (car v) (car v) (cadr v))) (list 1 2))")
    [data] = results(messages)
    assert data["text/plain"] == "((4 2) (2 0))"
    assert data["text/html"].count("<tr>") == 2
    assert "<td style=\"text-align:right\">4</td>" in data["text/html"]


def test_a_plot_is_an_svg_inline(kernel):
    pytest.importorskip("matplotlib")
    reply, messages = kernel.run("(plot sin 0 3.14 'orders '(0 1))")
    assert reply["status"] == "ok"
    [data] = results(messages)
    assert "image/svg+xml" in data
    assert ">sin<" in data["image/svg+xml"] and ">sin′<" in data["image/svg+xml"]


def test_each_kernel_has_its_own_interpreter(kernel, kernel_dirs):
    kernel.run("(define only-in-the-first 1)")
    other = Kernel(kernel_dirs)
    try:
        reply, _ = other.run("only-in-the-first")
        assert reply["status"] == "error"
        assert "unbound variable: only-in-the-first" in reply["evalue"]
    finally:
        other.stop()


# -- the tutorial notebook -----------------------------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def readme_tutorial_outputs() -> dict[str, str]:
    """What the README's tutorial shows after each entry: {entry: output}."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## A ten-minute tutorial"):readme.index("## The REPL")]
    outputs: dict[str, str] = {}
    for block in re.findall(r"```scheme\n(.*?)```", section, re.S):
        entry = None
        for line in block.splitlines():
            if line.startswith("> "):
                entry = line[2:]
                outputs[entry] = ""
            elif entry is not None:
                outputs[entry] += line + "\n"
    return outputs


def cell_text(cell) -> str:
    text = ""
    for output in cell.outputs:
        if output.output_type == "stream":
            text += output.text
        elif output.output_type == "execute_result":
            text += output.data["text/plain"] + "\n"
    return text


def test_the_tutorial_notebook_runs_end_to_end_and_shows_what_the_readme_does(kernel_dirs):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    notebook = nbformat.read(ROOT / "examples" / "tutorial.ipynb", as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells)      # kept without outputs
    manager = KernelManager(kernel_name="nablisp", kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    try:
        nbclient.NotebookClient(notebook, km=manager, timeout=120, allow_errors=False).execute()
    finally:
        # a client given its kernel manager leaves the kernel running
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(output.output_type != "error" for cell in code for output in cell.outputs)
    # every entry of the README's tutorial is in the notebook, and shows the same there
    expected = readme_tutorial_outputs()
    shown = {cell.source.splitlines()[-1]: cell_text(cell) for cell in code}
    entries = {entry for cell in code for entry in cell.source.splitlines()}
    assert set(expected) <= entries
    for entry, output in expected.items():
        if output:
            assert shown[entry] == output, entry
    # and the pictures came as SVG: the plots name their curves, the tape has its entries
    pictures = {cell.source: output.data["image/svg+xml"] for cell in code for output in cell.outputs
                if output.output_type == "execute_result" and "image/svg+xml" in output.data}
    assert all(f">{label}<" in pictures["(plot cube -2 2)"] for label in ("cube", "cube′", "cube″"))
    [spring] = [svg for source, svg in pictures.items() if source.startswith("(define (damped")]
    assert all(f">{label}<" in spring for label in ("position", "velocity", "a damped spring"))
    assert pictures["(draw-tape (lambda (x y) (* (+ x y) y)) 3 4)"].count('<g class="node"') == 4
    assert sum(">Newton (" in svg for svg in pictures.values()) == 1
    assert sum('id="gradient-field"' in svg for svg in pictures.values()) == 1
    tables = [output.data["text/html"] for cell in code for output in cell.outputs
              if output.output_type == "execute_result" and "text/html" in output.data]
    assert any(table.count("<tr>") == 2 for table in tables)
