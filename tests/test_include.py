"""`include` and `include-ci` (R7RS 4.1.7): the forms of a file, read relative to the including
file, case-folded for include-ci."""

import pytest

from nablisp.interpreter import Interpreter, NablispError


def test_include_ci_folds_identifiers_and_character_names(tmp_path):
    (tmp_path / "shout.scm").write_text('(DEFINE (Shout X) (List X (QUOTE Hello) #\\NEWLINE "Keep Case"))\n')
    main = tmp_path / "main.scm"
    main.write_text('(include-ci "shout.scm")\n')
    interp = Interpreter()
    interp.eval(main.read_text(), str(main))
    assert interp.eval("(equal? (shout 1) (list 1 'hello #\\newline \"Keep Case\"))") is True


def test_include_keeps_case(tmp_path):
    (tmp_path / "keep.scm").write_text("(define (Keep X) (list X 'Hello))\n")
    main = tmp_path / "main.scm"
    main.write_text('(include "keep.scm")\n')
    interp = Interpreter()
    interp.eval(main.read_text(), str(main))
    assert interp.eval("(equal? (Keep 1) (list 1 (string->symbol \"Hello\")))") is True


@pytest.mark.parametrize("source, message", [
    ('(include-ci 1)', "include-ci: expected file names (strings)"),
    ('(include-ci "no-such-file.scm")', "include-ci: cannot read \"no-such-file.scm\": No such file or directory"),
])
def test_include_ci_errors_name_the_form(tmp_path, source, message):
    main = tmp_path / "main.scm"
    with pytest.raises(NablispError) as info:
        Interpreter().eval(source, str(main))
    assert message in info.value.message
    assert info.value.kind == "syntax error"


def test_a_library_includes_a_file_named_from_a_search_root(tmp_path, monkeypatch):
    # Larceny's and chibi's suites write (include "tests/scheme/part.scm") in
    # tests/scheme/lib.sld, a name relative to the library root rather than to the file
    (tmp_path / "tests" / "scheme").mkdir(parents=True)
    (tmp_path / "tests" / "scheme" / "part.scm").write_text("(define (part) 'included)\n")
    (tmp_path / "tests" / "scheme" / "lib.sld").write_text(
        '(define-library (tests scheme lib) (export part) (import (scheme base))\n'
        '  (include "tests/scheme/part.scm"))\n')
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    interp = Interpreter()
    interp.libraries.search_path.append(tmp_path)
    assert interp.eval("(import (tests scheme lib)) (part)").name == "included"
