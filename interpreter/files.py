"""The one gate between a running program and the file system.

Everything a nablisp program does to files — the ports of (scheme file), `file-exists?`,
`delete-file`, `load`, `include`, the SVG that `tape->svg` writes — goes through the functions
below, so that a sandbox restricting file access has one place to do it.  (nablisp's own files,
the standard library and its parse cache, are read elsewhere: no program names them.)

Paths are taken as the program gave them: a relative path is relative to the process's current
directory, as in chibi, Guile and Racket.  The functions raise Python's `OSError`; `file_error`
turns one into the error object for which `file-error?` is true.

In a sandbox (sandbox.py) a `Policy` governs the evaluation: a path it does not grant, for
reading or for writing, fails here as if the file system had refused it (`PermissionError`),
and so does an environment variable it does not grant, which reads as unset.
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from contextvars import ContextVar

from ..lang.printer import write_string
from . import limits
from .errors import ErrorObject, SchemeError

TEXT_ENCODING = "utf-8"
_READ_CHUNK = 1 << 20

_POLICY: ContextVar = ContextVar("nablisp file policy", default=None)


@contextmanager
def governed_by(policy):
    """File and environment access inside is what ``policy`` grants (None: all of it)."""
    token = _POLICY.set(policy)
    try:
        yield
    finally:
        _POLICY.reset(token)


def _permit(path, writing: bool):
    policy = _POLICY.get()
    if policy is not None and not policy.allows(path, writing):
        raise PermissionError(errno.EACCES, "not granted to the sandbox", str(path))


def open_for_reading(path: str, binary: bool = False):
    """A Python stream reading ``path``: bytes, or text with any line ending read as a newline."""
    _permit(path, writing=False)
    if binary:
        return open(path, "rb")
    return open(path, "r", encoding=TEXT_ENCODING)


def open_for_writing(path: str, binary: bool = False):
    """A Python stream writing ``path``, created or emptied; text is written as given (a newline
    is one line-feed character on every system, as in the other Schemes)."""
    _permit(path, writing=True)
    if binary:
        return open(path, "wb")
    return open(path, "w", encoding=TEXT_ENCODING, newline="")


def read_text(path, who: str = "load") -> str:
    """The whole of a UTF-8 text file (`load`, `include`); UnicodeDecodeError if it is not text.
    It is read a piece at a time, so that a limit stops an endless one (/dev/zero)."""
    _permit(path, writing=False)
    pieces = []
    size = 0
    with open(path, "r", encoding=TEXT_ENCODING) as stream:
        while True:
            piece = stream.read(_READ_CHUNK)
            if not piece:
                return "".join(pieces)
            size += len(piece)
            limits.reserve(size * 2, who, f"reading {write_string(str(path))}")
            limits.current().check()
            pieces.append(piece)


def check_writable(path: str):
    """Raise the PermissionError writing ``path`` would meet (before work that leads to it)."""
    _permit(path, writing=True)


def write_bytes(path: str, data: bytes):
    _permit(path, writing=True)
    with open(path, "wb") as stream:
        stream.write(data)


def exists(path: str) -> bool:
    policy = _POLICY.get()
    if policy is not None and not policy.allows(path, False):
        return False          # what the sandbox does not grant is not there
    return os.path.exists(path)


def delete(path: str):
    _permit(path, writing=True)
    os.remove(path)


def environment_variable(name: str):
    """The value of the environment variable ``name``, or None."""
    policy = _POLICY.get()
    if policy is not None and not policy.allows_variable(name):
        return None
    return os.environ.get(name)


def environment_variables() -> dict:
    policy = _POLICY.get()
    return {name: value for name, value in os.environ.items()
            if policy is None or policy.allows_variable(name)}


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
    policy = _POLICY.get()
    if policy is not None and not policy.allows(path, False):
        return False
    return os.path.isfile(path)
