"""Every code sample of README.md runs, and shows what it prints."""

import contextlib
import io
import re
from pathlib import Path

import pytest

from nablisp.interpreter import Interpreter
from nablisp.interpreter.repl import Session

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks():
    text = README.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", text, re.S)]


def transcripts():
    return [body for lang, body in blocks() if lang == "scheme"]


def entries(transcript: str):
    """(input, expected output) for each `> ` entry of a REPL transcript."""
    from nablisp.lang.reader import is_complete
    result, lines = [], transcript.splitlines()
    i = 0
    while i < len(lines):
        assert lines[i].startswith("> "), f"a transcript line that is not an entry: {lines[i]!r}"
        source = lines[i][2:]
        i += 1
        while not is_complete(source):
            source += "\n" + lines[i]
            i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("> "):
            output.append(lines[i])
            i += 1
        result.append((source, "".join(line + "\n" for line in output)))
    return result


def test_the_first_lines_are_the_setup_and_test_commands():
    lang, body = blocks()[0]
    assert lang == "sh"
    install, test = body.strip().splitlines()
    assert "pip install" in install and "nablisp examples/" in install
    assert "pip install -e '.[test]'" in test and "pytest" in test


@pytest.mark.parametrize("line", [0, 1], ids=["install", "test"])
def test_the_set_up_commands_compile_every_package_folder(line):
    """Start-up needs bytecode for every module it imports; a folder added to the packages and
    not to the set-up lines would be compiled again at every start."""
    command = blocks()[0][1].strip().splitlines()[line]
    compileall = re.search(r"-m compileall -q ([\w ]+?) &&", command)
    assert compileall, command
    pyproject = (README.parent / "pyproject.toml").read_text(encoding="utf-8")
    package_dirs = pyproject.split("[tool.setuptools.package-dir]")[1].split("\n[")[0]
    folders = {path.split("/")[0] for path in re.findall(r'^"[\w.]+" = "([\w/]+)"$', package_dirs, re.M)}
    assert len(folders) >= 5
    assert set(compileall.group(1).split()) == folders


def test_every_scheme_sample_is_a_transcript():
    assert len(transcripts()) >= 7


@pytest.mark.parametrize("transcript", transcripts(), ids=lambda t: t.splitlines()[0][:40])
def test_scheme_sample(transcript, capsys):
    session = Session(Interpreter())
    for source, expected in entries(transcript):
        capsys.readouterr()
        session.handle(source)
        assert capsys.readouterr().out == expected, source


def test_python_samples():
    all_blocks = blocks()
    ran = 0
    for index, (lang, body) in enumerate(all_blocks):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, "README.md", "exec"), {})
        following = all_blocks[index + 1] if index + 1 < len(all_blocks) else ("", "")
        if following[0] == "text":
            assert out.getvalue() == following[1]
        ran += 1
    assert ran >= 1
