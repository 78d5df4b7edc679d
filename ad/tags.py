"""Tags and tagged values: the data that nested differentiation is made of.

Every invocation of a derivative operator draws a fresh `Tag`, one level above every tag drawn
before it.  A value perturbed by that invocation is

    Dual(tag, primal, tangent)      forward mode:  primal + tangent·ε_tag
    Tracked(tag, primal, node)      reverse mode:  primal, recorded as entry `node` of tag.tape

The invariant that makes every nesting work: **the primal and tangent of a tagged value carry
only tags of lower levels** (they are older).  A Hessian is a tower of these: Dual(2, Dual(1, x,
1), Dual(1, 1, 0)) is x + ε₁ + ε₂ (+ 0·ε₁ε₂).
"""

from __future__ import annotations

from fractions import Fraction


class DifferentiationError(Exception):
    """A derivative that cannot be computed: a singular point, a wrong use of an operator."""


class Tag:
    """One derivative invocation.  ``tape`` is its Wengert list in reverse mode, else None.
    ``inline_entries`` is the tape's list of entries when the arithmetic primitives may append
    to it directly (a live tape without teaching annotations), else None: one attribute to read
    on the path every reverse-mode operation takes.

    ``live`` is whether the derivative calculation that drew the tag is running.  A perturbation
    exists only during that dynamic extent (the operator's call, and each call of a procedure a
    derivative returned, which re-opens it); a value met outside it — kept by ``set!``, a
    closure, a data structure, a continuation — is the number it stands for.  Lifting treats it
    as its primal, ``dual`` makes no value of a closed tag, and nothing is appended to its tape."""

    __slots__ = ("level", "tape", "inline_entries", "live")

    def __init__(self, level: int, tape=None):
        self.level = level
        self.tape = tape
        self.live = True
        self.inline_entries = tape.entries if tape is not None and tape.notes is None else None

    def set_live(self, live: bool) -> bool:
        """Open (True) or close (False) the tag; the state it had before."""
        previous = self.live
        self.live = live
        tape = self.tape
        self.inline_entries = tape.entries if live and tape is not None and tape.notes is None else None
        return previous

    def close(self):
        self.set_live(False)

    def __repr__(self) -> str:
        return f"ε{self.level}"


class TagSource:
    """Draws tags with increasing levels.  Each interpreter has its own."""

    __slots__ = ("level",)

    def __init__(self):
        self.level = 0

    def fresh(self, tape=None) -> Tag:
        self.level += 1
        return Tag(self.level, tape)


def _number_text(value) -> str:
    from ..lang.printer import number_to_string
    return number_to_string(plain(value))


class Dual:
    # A perturbed number is printed, written and shown in messages as the number it stands for:
    # the perturbation is the derivative operator's business, not the program's text.
    __slots__ = ("tag", "primal", "tangent")

    def scheme_repr(self, write: bool) -> str:
        return _number_text(self)

    def __repr__(self) -> str:
        return f"Dual({self.tag!r}, {self.primal!r}, {self.tangent!r})"


class Bundle:
    """The tangent of a perturbation in many directions at once: Dual(tag, x, Bundle({i: cᵢ}))
    is x + Σᵢ cᵢ·εᵢ, where the εᵢ (one per input of a Jacobian) are independent and every product
    of two of them is 0.  One pass with such a tag gives a whole Jacobian, where a tag per input
    would need a pass per input.  Coefficients follow the rule of every tangent: only older tags
    inside.  A tag's tangents are all bundles or none are; ``jacobian``, ``hessian`` and
    ``gradient-forward`` draw bundle tags.  Sparse: a value that depends on two of a hundred
    inputs carries two coefficients."""

    __slots__ = ("coefficients",)

    def __eq__(self, other):
        """Equal to the number 0 when every coefficient is 0: the direction the operations skip,
        as they skip a tangent of 0, so that x − x at a point where sqrt has no derivative is the
        constant a pass per input would see there, not an error.  Else compared by identity."""
        if other.__class__ is not int and other.__class__ is not float:
            return self is other
        if other != 0:
            return False
        for coefficient in self.coefficients.values():
            cls = coefficient.__class__
            if cls is Dual or cls is Tracked or coefficient != 0:
                return False
        return True

    __hash__ = object.__hash__

    def scheme_repr(self, write: bool) -> str:
        from ..lang.printer import write_string
        return "(" + " + ".join(f"{write_string(c)}·e{i}" for i, c in sorted(self.coefficients.items())) + ")"

    def __repr__(self) -> str:
        return self.scheme_repr(True)


class Tracked:
    __slots__ = ("tag", "primal", "node")

    def scheme_repr(self, write: bool) -> str:
        return _number_text(self)

    def __repr__(self) -> str:
        return f"Tracked({self.tag!r}, {self.primal!r}, node {self.node})"


# The classes above have no __init__ on purpose: a class whose __init__ is Python code is called
# from C, and CPython 3.11 starts a new run of its interpreter loop for a few assignments, while
# Cls() of a class without one stays in C.  Made here: 230 ns a Tracked, against 320 through
# __init__ and 190 through object.__new__ alone (which checks its argument at every call).  AD
# makes one of these per operation.

def tracked(tag: Tag, primal, node: int) -> Tracked:
    """Tracked(tag, primal, node): entry ``node`` of ``tag``'s tape, whose value is ``primal``."""
    value = Tracked()
    value.tag = tag
    value.primal = primal
    value.node = node
    return value


def dual(tag: Tag, primal, tangent) -> Dual:
    """Dual(tag, primal, tangent): primal + tangent·ε_tag; just the primal when the tag is
    closed (every operation forms its result's primal first, so a closed tag drops out here)."""
    if not tag.live:
        return primal
    value = Dual()
    value.tag = tag
    value.primal = primal
    value.tangent = tangent
    return value


def bundle(coefficients: dict) -> Bundle:
    """Bundle(coefficients): Σᵢ coefficients[i]·εᵢ."""
    value = Bundle()
    value.coefficients = coefficients
    return value


TAGGED = (Dual, Tracked)


def is_tagged(value) -> bool:
    cls = value.__class__
    return cls is Dual or cls is Tracked


def is_number(value) -> bool:
    """A number of the language: exact or inexact, perturbed or not."""
    cls = value.__class__
    return cls is int or cls is float or cls is Fraction or cls is Dual or cls is Tracked


def plain(value):
    """The number under all perturbations (what comparisons and predicates look at)."""
    while value.__class__ is Dual or value.__class__ is Tracked:
        value = value.primal
    return value


def live_value(value):
    """``value`` without the perturbations of closed tags at its top: the number it stands for
    outside their calculations (a live perturbation, and what lies under it, stay)."""
    while (value.__class__ is Dual or value.__class__ is Tracked) and not value.tag.live:
        value = value.primal
    return value


def normalize(value):
    """Exact rationals with denominator 1 are integers."""
    if value.__class__ is Fraction and value.denominator == 1:
        return value.numerator
    return value


def top_tag(args) -> Tag | None:
    """The newest live tag at the top of ``args`` (a closed one perturbs nothing)."""
    top = None
    for value in args:
        cls = value.__class__
        if cls is Dual or cls is Tracked:
            tag = value.tag
            if tag.live and (top is None or tag.level > top.level):
                top = tag
    return top
