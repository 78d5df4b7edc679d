"""Pictures: the values that plots and tape drawings return.

A picture is SVG text with a short description.  A notebook shows it inline (the kernel sends
it as image/svg+xml display data); a terminal cannot, so the REPL writes it to a file and says
where; a script saves it where it wants with `save-picture`.  The picture knows nothing about
who shows it: that is the front end's business.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from . import files


class Picture:
    """An SVG drawing: ``kind`` names what drew it (plot, tape, …), ``description`` is the
    one line that stands for it where pictures cannot be shown."""

    __slots__ = ("kind", "description", "svg")

    def __init__(self, kind: str, description: str, svg: str):
        self.kind = kind
        self.description = description
        self.svg = svg

    def scheme_repr(self, write: bool) -> str:
        return f"#<picture {self.kind}: {self.description}>"


def save_picture(picture: Picture, filename: str, who: str = "save-picture") -> str:
    try:
        files.write_bytes(filename, picture.svg.encode("utf-8"))
    except (OSError, ValueError) as error:
        raise files.file_error(who, "write", filename, error) from None
    return filename


class TerminalPictures:
    """Where a terminal session puts the pictures it cannot show: $NABLISP_PICTURES, else a
    directory of its own under the system's temporary directory, made when the first picture
    comes.  Files are numbered in the order the pictures were shown, so none is overwritten."""

    def __init__(self, directory: str | None = None):
        self.directory = directory or os.environ.get("NABLISP_PICTURES") or None
        self.count = 0

    def save(self, picture: Picture) -> str:
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="nablisp-pictures-")
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        self.count += 1
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", picture.kind).strip("-") or "picture"
        path = Path(self.directory) / f"{stem}-{self.count}.svg"
        while path.exists():
            self.count += 1
            path = Path(self.directory) / f"{stem}-{self.count}.svg"
        return save_picture(picture, str(path), "the REPL")

    def shown(self, picture: Picture) -> str:
        """The line a terminal prints for ``picture``: what it is and the file it went to."""
        try:
            path = self.save(picture)
        except Exception as error:     # a picture that cannot be saved must not end the session
            return f"{picture.scheme_repr(True)} (not saved: {getattr(error, 'message', error)})"
        return f"{picture.scheme_repr(True)} written to {path}"

