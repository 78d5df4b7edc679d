"""The one gate between a running program and the file system.

Everything a nablisp program does to files — the ports of (scheme file), `file-exists?`,
`delete-file`, `load`, `include`, the SVG that `tape->svg` writes — goes through the functions
below, so that a sandbox restricting file access has one place to do it.  (nablisp's own files,
the standard library and its parse cache, are read elsewhere: no program names them.)

Paths are taken as the program gave them: a relative path is relative to the process's current
directory, as in chibi, Guile and Racket.  The functions raise Python's `OSError`; `file_error`
turns one into the error object for which `file-error?` is true.
"""

from __future__ import annotations

import os

from ..lang.printer import write_string
from .errors import ErrorObject, SchemeError

TEXT_ENCODING = "utf-8"


def open_for_reading(path: str, binary: bool = False):
    """A Python stream reading ``path``: bytes, or text with any line ending read as a newline."""
    if binary:
        return open(path, "rb")
    return open(path, "r", encoding=TEXT_ENCODING)


def open_for_writing(path: str, binary: bool = False):
    """A Python stream writing ``path``, created or emptied; text is written as given (a newline
    is one line-feed character on every system, as in the other Schemes)."""
    if binary:
        return open(path, "wb")
    return open(path, "w", encoding=TEXT_ENCODING, newline="")


def read_text(path) -> str:
    """The whole of a UTF-8 text file (`load`, `include`); UnicodeDecodeError if it is not text."""
    with open(path, "r", encoding=TEXT_ENCODING) as stream:
        return stream.read()


def write_bytes(path: str, data: bytes):
    with open(path, "wb") as stream:
        stream.write(data)


def exists(path: str) -> bool:
    return os.path.exists(path)


def delete(path: str):
    os.remove(path)


def file_error(who: str, action: str, path: str, error: Exception) -> SchemeError:
    """``who: cannot ACTION "PATH": reason``, as an error that satisfies `file-error?`."""
    if isinstance(error, OSError) and error.strerror:
        reason = error.strerror
    elif isinstance(error, UnicodeDecodeError):
        reason = "not UTF-8 text"
    elif isinstance(error, ValueError):       # a path holding a NUL character
        reason = "not a valid file name"
    else:
        reason = str(error)
    return SchemeError(ErrorObject(f"{who}: cannot {action} {write_string(path)}: {reason}", kind="file"))


def is_file(path) -> bool:
    """Whether ``path`` names a file (not a directory): where `import` looks for a library."""
    return os.path.isfile(path)
