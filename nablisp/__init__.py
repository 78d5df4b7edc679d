"""nablisp: a small Scheme in which differentiation is a first-class operator."""

__version__ = "0.1.0"
