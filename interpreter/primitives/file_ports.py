"""(scheme file): ports over files, `file-exists?` and `delete-file`.

Every file is reached through interpreter/files.py.  A file that cannot be opened or deleted
raises an error for which `file-error?` is true, its message naming the file and the reason.
"""

from __future__ import annotations

from .. import files, runtime
from ..files import file_error
from ..runtime import Parameter, apply_procedure, check_procedure
from .ports import (CURRENT_INPUT, CURRENT_OUTPUT, BinaryInputPort, BinaryOutputPort, InputPort,
                    OutputPort, register_file_port)
from .registry import define
from .text import check_string


def open_file_port(who: str, name, output: bool, binary: bool):
    path = check_string(who, name)
    try:
        stream = files.open_for_writing(path, binary) if output else files.open_for_reading(path, binary)
    except (OSError, ValueError) as error:
        raise file_error(who, "open", path, error) from None
    if binary:
        port = BinaryOutputPort(stream, path) if output else BinaryInputPort(stream=stream, path=path)
    else:
        port = OutputPort(stream, path) if output else InputPort(stream=stream, name=path, path=path)
    return register_file_port(port)


@define("open-input-file", signature="(open-input-file filename)",
        doc="A textual input port reading the file filename (UTF-8); a file that cannot be opened "
            "raises an error that file-error? recognizes.")
def open_input_file(name):
    return open_file_port("open-input-file", name, output=False, binary=False)


@define("open-binary-input-file", signature="(open-binary-input-file filename)",
        doc="A binary input port reading the bytes of the file filename.")
def open_binary_input_file(name):
    return open_file_port("open-binary-input-file", name, output=False, binary=True)


@define("open-output-file", signature="(open-output-file filename)",
        doc="A textual output port writing the file filename (UTF-8), which is created or emptied.")
def open_output_file(name):
    return open_file_port("open-output-file", name, output=True, binary=False)


@define("open-binary-output-file", signature="(open-binary-output-file filename)",
        doc="A binary output port writing bytes to the file filename, which is created or emptied.")
def open_binary_output_file(name):
    return open_file_port("open-binary-output-file", name, output=True, binary=True)


# The call-with forms close the port when proc returns, and leave it open when proc escapes
# (R7RS: the program may have kept the port); the with- forms rebind a current port, which no
# one holds once they end, and close their file however the thunk ends.

@define("call-with-input-file", signature="(call-with-input-file filename proc)",
        doc="Call proc with an input port reading the file filename, and close the port when proc "
            "returns; proc's values.")
def call_with_input_file(name, proc):
    check_procedure("call-with-input-file", proc)
    port = open_file_port("call-with-input-file", name, output=False, binary=False)
    result = apply_procedure(proc, (port,))
    port.close()
    return result


@define("call-with-output-file", signature="(call-with-output-file filename proc)",
        doc="Call proc with an output port writing the file filename, and close the port when proc "
            "returns; proc's values.")
def call_with_output_file(name, proc):
    check_procedure("call-with-output-file", proc)
    port = open_file_port("call-with-output-file", name, output=True, binary=False)
    result = apply_procedure(proc, (port,))
    port.close()
    return result


def _with_current_port(parameter: Parameter, port, thunk):
    saved = parameter.value
    parameter.value = port
    try:
        return apply_procedure(thunk, ())
    except Exception as error:
        runtime.deliver_in_place(error)     # the handlers see it with the file as the current port
        raise
    finally:
        parameter.value = saved
        port.close()


@define("with-input-from-file", signature="(with-input-from-file filename thunk)",
        doc="Call thunk with the current input port reading the file filename, then close it; thunk's "
            "values.")
def with_input_from_file(name, thunk):
    check_procedure("with-input-from-file", thunk)
    port = open_file_port("with-input-from-file", name, output=False, binary=False)
    return _with_current_port(CURRENT_INPUT, port, thunk)


@define("with-output-to-file", signature="(with-output-to-file filename thunk)",
        doc="Call thunk with the current output port writing the file filename, then close it; thunk's "
            "values.")
def with_output_to_file(name, thunk):
    check_procedure("with-output-to-file", thunk)
    port = open_file_port("with-output-to-file", name, output=True, binary=False)
    return _with_current_port(CURRENT_OUTPUT, port, thunk)


@define("file-exists?", signature="(file-exists? filename)",
        doc="Whether a file (or directory) named filename exists.")
def file_exists_p(name):
    return files.exists(check_string("file-exists?", name))


@define("delete-file", signature="(delete-file filename)",
        doc="Delete the file filename; failing to is an error that file-error? recognizes.")
def delete_file(name):
    path = check_string("delete-file", name)
    try:
        files.delete(path)
    except (OSError, ValueError) as error:
        raise file_error("delete-file", "delete", path, error) from None
