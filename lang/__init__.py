"""The nablisp language's text: reader, data and printer."""

import sys

# Python 3.11 refuses to convert integers of more than 4300 digits to and from text; Scheme's
# exact integers have no such limit, so nablisp lifts it for the process.
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)
