"""Automatic differentiation: tagged values, the lifting of primitives, forward and reverse
mode, and the derivative operators.  Reached by a running program only through the numeric
primitives (interpreter/primitives/numbers.py) and the operators it installs."""
