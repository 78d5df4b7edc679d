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


def first_commands() -> list[str]:
    """The commands of the README's first block, without their comments."""
    lang, body = blocks()[0]
    assert lang == "sh"
    return [line.split("  #")[0].strip() for line in body.strip().splitlines()]


def test_the_first_block_is_an_install_command_and_a_test_command_in_short_lines():
    install, test = first_commands()
    assert install == "python3 -m venv .venv && .venv/bin/pip install -e '.[test]'"
    assert test.startswith(".venv/bin/python -m pytest")
    assert all(len(line) <= 100 for line in blocks()[0][1].splitlines())


def test_the_test_run_has_bytecode_for_every_package_module():
    """conftest.py compiles the packages at the start of the run; a module without bytecode
    would be compiled again at every start of nablisp the tests make."""
    import importlib.util
    from conftest import REPOSITORY, package_folders
    folders = package_folders()
    assert len(folders) >= 5
    missing = [str(module) for folder in folders for module in (REPOSITORY / folder).rglob("*.py")
               if not Path(importlib.util.cache_from_source(str(module))).exists()]
    assert not missing, missing


def test_every_scheme_sample_is_a_transcript():
    assert len(transcripts()) >= 7


@pytest.mark.parametrize("transcript", transcripts(), ids=lambda t: t.splitlines()[0][:40])
def test_scheme_sample(transcript, capsys, tmp_path, monkeypatch):
    # the pictures sample says where the REPL writes pictures: pictures/, as it sets
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NABLISP_PICTURES", "pictures")
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
