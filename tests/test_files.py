"""(scheme file) and the file system gate, with real temporary files: text and binary file
ports, the call-with- and with- forms, file errors, closing, and that every file a program
touches goes through interpreter/files.py."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

from nablisp.interpreter import Interpreter, NablispError
from nablisp.interpreter import files
from nablisp.interpreter.errors import SchemeExit
from nablisp.lang.datum import Char
from nablisp.lang.printer import write_string


@pytest.fixture
def interp():
    return Interpreter()


def scheme(interp, source):
    """The value of ``source`` as written text."""
    return write_string(interp.evaluate(source))


def error_of(interp, source) -> str:
    with pytest.raises(NablispError) as caught:
        interp.evaluate(source)
    return caught.value.message


def file_error_of(interp, source) -> str:
    """The message of the error ``source`` raises, which must satisfy file-error?."""
    return interp.eval(f"(guard (e ((file-error? e) (error-object-message e))) {source} 'no-error)")


def q(path) -> str:
    return write_string(str(path))


# -- text files ---------------------------------------------------------------------------------

def test_text_written_to_a_file_reads_back(interp, tmp_path):
    path = tmp_path / "out.txt"
    interp.evaluate(f'(define p (open-output-file {q(path)}))'
                    '(write (list 1 "two" #\\3) p) (newline p) (display "λ line" p) (write-char #\\! p)'
                    '(write-string "abcdef" p 2 4) (close-port p)')
    assert path.read_text(encoding="utf-8") == '(1 "two" #\\3)\nλ line!cd'
    assert scheme(interp, f'(define i (open-input-file {q(path)}))'
                          '(list (read-char i) (peek-char i) (read-string 5 i) (read-line i) (read-line i)'
                          '      (eof-object? (read-line i)) (eof-object? (read-char i)))') == \
        '(#\\( #\\1 "1 \\"tw" "o\\" #\\\\3)" "λ line!cd" #t #t)'
    assert scheme(interp, "(list (input-port? i) (textual-port? i) (binary-port? i))") == "(#t #t #f)"


def test_read_reads_data_from_a_file(interp, tmp_path):
    path = tmp_path / "data.scm"
    path.write_text("(1 2 . 3)\n  #(a \"b\")\n; done\n", encoding="utf-8")
    assert scheme(interp, f'(define i (open-input-file {q(path)}))'
                          '(let* ((a (read i)) (b (read i))) (list a b (eof-object? (read i))))') == \
        '((1 2 . 3) #(a "b") #t)'


def test_line_endings_of_other_systems_read_as_newlines(interp, tmp_path):
    path = tmp_path / "dos.txt"
    path.write_bytes(b"one\r\ntwo\r\n")
    assert scheme(interp, f'(call-with-input-file {q(path)} (lambda (i) (list (read-line i) (read-line i) '
                          '(read-char i))))').startswith('("one" "two" #<')


def test_read_line_of_a_string_ends_at_every_r7rs_line_ending(interp):
    assert scheme(interp, '(let ((p (open-input-string "a\\r\\nb\\rc\\n\\nd")))'
                          '  (let loop ((acc (list)))'
                          '    (let ((l (read-line p))) (if (eof-object? l) (reverse acc) (loop (cons l acc))))))') \
        == '("a" "b" "c" "" "d")'


def test_a_long_line_and_many_lines(interp, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("x" * 100_000 + "\n" + "y\n" * 5000, encoding="utf-8")
    assert interp.eval(f'(call-with-input-file {q(path)} (lambda (i) (let loop ((n 0) (chars 0))'
                       '  (let ((line (read-line i)))'
                       '    (if (eof-object? line) (list n chars) (loop (+ n 1) (+ chars (string-length line))))))))') \
        == [5001, 105_000]


def test_a_file_that_is_not_utf8_is_a_file_error_when_read(interp, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9\n")
    assert file_error_of(interp, f"(read-line (open-input-file {q(path)}))") == \
        f'read-line: cannot read "{path}": not UTF-8 text'


def test_file_output_is_written_as_is(interp, tmp_path):
    path = tmp_path / "nl.txt"
    interp.evaluate(f'(call-with-output-file {q(path)} (lambda (p) (display "a\\nb\\n" p)))')
    assert path.read_bytes() == b"a\nb\n"


def test_opening_for_output_empties_the_file(interp, tmp_path):
    path = tmp_path / "old.txt"
    path.write_text("old content")
    interp.evaluate(f'(close-port (open-output-file {q(path)}))')
    assert path.read_text() == ""


# -- binary files -------------------------------------------------------------------------------

def test_bytes_written_to_a_binary_file_read_back(interp, tmp_path):
    path = tmp_path / "b.bin"
    interp.evaluate(f'(define o (open-binary-output-file {q(path)}))'
                    '(write-u8 0 o) (write-bytevector (bytevector 1 2 255 4) o 1 3) (flush-output-port o)'
                    '(close-output-port o)')
    assert path.read_bytes() == bytes([0, 2, 255])
    assert scheme(interp, f'(define i (open-binary-input-file {q(path)}))'
                          '(list (binary-port? i) (textual-port? i) (peek-u8 i) (read-u8 i) (read-bytevector 5 i)'
                          '      (eof-object? (read-u8 i)) (eof-object? (read-bytevector 1 i)))') == \
        "(#t #f 0 0 #u8(2 255) #t #t)"
    assert scheme(interp, "i").startswith("#<binary-input-port ")


def test_a_binary_file_larger_than_a_block(interp, tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 1000          # 256,000 bytes: several blocks of the port's buffer
    path.write_bytes(data)
    interp.evaluate(f'(define i (open-binary-input-file {q(path)}))'
                    '(define head (read-bytevector 65535 i))'
                    '(define b1 (read-u8 i)) (define b2 (peek-u8 i))'
                    '(define buffer (make-bytevector 100000 7))'
                    '(define n (read-bytevector! buffer i 10))')
    assert interp.eval("(list (bytevector-length head) b1 b2 n)") == [65535, 255, 0, 100000 - 10]
    assert bytes(interp.evaluate("buffer"))[10:] == data[65536:65536 + 99990]
    assert interp.eval("(bytevector-length (read-bytevector 100000 i))") == 256_000 - 65536 - 99990
    assert interp.eval("(eof-object? (read-bytevector! buffer i))") is True


def test_textual_and_binary_file_ports_refuse_each_others_operations(interp, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("abc")
    assert error_of(interp, f"(read-u8 (open-input-file {q(path)}))") == \
        f'read-u8: expected a binary input port, got #<input-port "{path}">'
    assert error_of(interp, f"(read-char (open-binary-input-file {q(path)}))") == \
        f'read-char: expected a textual input port, got #<binary-input-port "{path}">'
    assert error_of(interp, f'(display "x" (open-binary-output-file {q(tmp_path / "o.bin")}))') == \
        f'display: expected a textual output port, got #<binary-output-port "{tmp_path / "o.bin"}">'


# -- the call-with- and with- forms ------------------------------------------------------------

def test_call_with_output_file_closes_the_port_when_proc_returns(interp, tmp_path):
    path = tmp_path / "c.txt"
    assert interp.eval(f'(define kept #f)'
                       f'(call-with-output-file {q(path)} (lambda (p) (set! kept p) (write "x" p) 42))') == 42
    assert interp.eval("(output-port-open? kept)") is False
    assert path.read_text() == '"x"'        # flushed: closed, not waiting for the collector
    assert interp.eval(f'(call-with-input-file {q(path)} (lambda (p) (set! kept p) (read p)))') == "x"
    assert interp.eval("(input-port-open? kept)") is False


def test_call_with_input_file_leaves_the_port_open_when_proc_escapes(interp, tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("abc")
    assert interp.eval(f'(define kept #f)'
                       f'(guard (e (#t (read-char kept))) (call-with-input-file {q(path)} '
                       '  (lambda (p) (set! kept p) (read-char p) (raise (quote oops)))))') == Char(ord("b"))


def test_with_output_to_file_rebinds_the_current_output_port(interp, tmp_path):
    path = tmp_path / "w.txt"
    assert interp.eval(f'(define before (current-output-port)) (define inside #f)'
                       f'(with-output-to-file {q(path)} (lambda () (set! inside (current-output-port))'
                       '  (display "hello") (write (quote (1 2))) (newline) 7))') == 7
    assert path.read_text() == "hello(1 2)\n"
    assert interp.eval("(list (eq? before (current-output-port)) (output-port-open? inside))") == [True, False]
    # an error inside: the previous port comes back, and the file is closed
    assert interp.eval(f'(guard (e (#t (list (eq? before (current-output-port)) (output-port-open? inside))))'
                       f'  (with-output-to-file {q(path)} (lambda () (set! inside (current-output-port))'
                       '    (display "partial") (car 1))))') == [True, False]
    assert path.read_text() == "partial"


def test_with_input_from_file_rebinds_the_current_input_port(interp, tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("first line\n(a b)\n")
    assert interp.eval(f'(define before (current-input-port))'
                       f'(with-input-from-file {q(path)} (lambda () (let* ((l (read-line)) (d (read))) (list l d))))') \
        == ["first line", [interp.eval("'a"), interp.eval("'b")]]
    assert interp.eval("(eq? before (current-input-port))") is True


# -- file-exists?, delete-file and errors -------------------------------------------------------

def test_file_exists_and_delete_file(interp, tmp_path):
    path = tmp_path / "d.txt"
    assert interp.eval(f"(file-exists? {q(path)})") is False
    path.write_text("x")
    assert interp.eval(f"(file-exists? {q(path)})") is True
    assert interp.eval(f"(file-exists? {q(tmp_path)})") is True
    interp.evaluate(f"(delete-file {q(path)})")
    assert not path.exists()
    assert file_error_of(interp, f"(delete-file {q(path)})") == \
        f'delete-file: cannot delete "{path}": No such file or directory'


@pytest.mark.parametrize("who", ["open-input-file", "open-binary-input-file"])
def test_a_missing_file_cannot_be_opened(interp, tmp_path, who):
    path = tmp_path / "x.txt"
    assert file_error_of(interp, f"({who} {q(path)})") == f'{who}: cannot open "{path}": No such file or directory'


def test_open_errors_name_the_procedure_the_file_and_the_reason(interp, tmp_path):
    missing_dir = tmp_path / "no" / "such.txt"
    assert file_error_of(interp, f"(open-output-file {q(missing_dir)})") == \
        f'open-output-file: cannot open "{missing_dir}": No such file or directory'
    assert file_error_of(interp, f"(open-input-file {q(tmp_path)})") == \
        f'open-input-file: cannot open "{tmp_path}": Is a directory'
    assert file_error_of(interp, f"(call-with-input-file {q(missing_dir)} read)").startswith(
        "call-with-input-file: cannot open")
    assert file_error_of(interp, f"(with-input-from-file {q(missing_dir)} read)").startswith(
        "with-input-from-file: cannot open")
    assert file_error_of(interp, f"(with-output-to-file {q(missing_dir)} newline)").startswith(
        "with-output-to-file: cannot open")
    assert file_error_of(interp, '(open-input-file "a\\x0;b")') == \
        'open-input-file: cannot open "a\\x0;b": not a valid file name'
    assert error_of(interp, "(open-input-file 'x)") == "open-input-file: expected a string, got x"
    # an error of another kind is not a file error
    assert interp.eval("(guard (e (#t (file-error? e))) (open-input-file 'x))") is False


def test_a_bad_procedure_is_refused_before_the_file_is_created(interp, tmp_path):
    path = tmp_path / "never.txt"
    assert error_of(interp, f"(call-with-output-file {q(path)} 5)") == "call-with-output-file: expected a procedure, got 5"
    assert error_of(interp, f"(with-output-to-file {q(path)} 5)") == "with-output-to-file: expected a procedure, got 5"
    assert not path.exists()


def test_relative_paths_are_relative_to_the_current_directory(interp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    interp.evaluate('(call-with-output-file "rel.txt" (lambda (p) (display "here" p)))')
    assert (tmp_path / "rel.txt").read_text() == "here"
    assert interp.eval('(list (file-exists? "rel.txt") (call-with-input-file "rel.txt" read-line))') == [True, "here"]
    interp.evaluate('(delete-file "rel.txt")')
    assert not (tmp_path / "rel.txt").exists()


def test_load_of_a_missing_file_is_a_file_error(interp, tmp_path):
    assert file_error_of(interp, f"(load {q(tmp_path / 'nope.scm')})").startswith("load: no such file")


# -- one gate -----------------------------------------------------------------------------------

def test_every_file_access_goes_through_the_files_module(interp, tmp_path, monkeypatch):
    """Refusing access in interpreter/files.py refuses it to every procedure of a program."""
    real = tmp_path / "real.scm"
    real.write_text("(define loaded #t)\n")

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    for name in ["open_for_reading", "open_for_writing", "read_text", "write_bytes", "delete"]:
        monkeypatch.setattr(files, name, refuse)
    monkeypatch.setattr(files, "exists", lambda path: False)
    for source in [f"(open-input-file {q(real)})", f"(open-binary-input-file {q(real)})",
                   f"(open-output-file {q(real)})", f"(open-binary-output-file {q(real)})",
                   f"(call-with-input-file {q(real)} read)", f"(call-with-output-file {q(real)} write)",
                   f"(with-input-from-file {q(real)} read)", f"(with-output-to-file {q(real)} newline)",
                   f"(delete-file {q(real)})"]:
        assert file_error_of(interp, source).endswith(f'cannot {"delete" if "delete" in source else "open"} '
                                                      f'{q(real)}: Permission denied'), source
    assert file_error_of(interp, f"(load {q(real)})") == f"load: cannot read {real}: Permission denied"
    assert "Permission denied" in error_of(interp, f"(include {q(str(real))})")
    assert interp.eval(f"(file-exists? {q(real)})") is False
    assert real.read_text() == "(define loaded #t)\n"


# -- the end of the program ---------------------------------------------------------------------

def run_script(tmp_path, source):
    script = tmp_path / "script.scm"
    script.write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "nablisp.interpreter.cli", str(script)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


@pytest.mark.parametrize("ending", ["", "(exit 3)", "(car 1)"])
def test_file_ports_left_open_are_closed_when_the_program_ends(tmp_path, ending):
    result = run_script(tmp_path, '(define p (open-output-file "left.txt"))\n(display "kept" p)\n'
                                  '(define b (open-binary-output-file "left.bin"))\n(write-u8 65 b)\n' + ending)
    assert "Traceback" not in result.stderr
    assert (tmp_path / "left.txt").read_text() == "kept"
    assert (tmp_path / "left.bin").read_bytes() == b"A"


def test_emergency_exit_skips_dynamic_wind_after_thunks(interp):
    interp.evaluate("(define log '())")
    for procedure, expected in [("exit", ["after"]), ("emergency-exit", [])]:
        interp.evaluate("(set! log '())")
        with pytest.raises(SchemeExit) as caught:
            interp.evaluate(f"(dynamic-wind (lambda () #f) (lambda () ({procedure} 4))"
                            "  (lambda () (set! log (cons \"after\" log))))")
        assert caught.value.code == 4
        assert interp.eval("log") == expected


def test_tape_svg_writes_its_file_through_the_gate(interp, tmp_path, monkeypatch):
    """tape->svg has Graphviz render to its output and writes the SVG itself (a stand-in `dot`
    here: one that echoes what it was given)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_dot = bin_dir / "dot"
    fake_dot.write_text('#!/bin/sh\n[ "$1" = "-Tsvg" ] || exit 1\necho "<?xml svg?>"\nexec /bin/cat\n')
    fake_dot.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    target = tmp_path / "graph.svg"
    assert interp.eval(f"(tape->svg (lambda (x) (* x x)) 3 {q(target)})") == str(target)
    text = target.read_text()
    assert text.startswith("<?xml svg?>\ndigraph tape {")

    def refuse(*args):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(files, "write_bytes", refuse)
    assert file_error_of(interp, f"(tape->svg (lambda (x) (* x x)) 3 {q(target)})") == \
        f"tape->svg: cannot write {q(target)}: Permission denied"
