"""Numbers (R7RS §6.2): exact integers and rationals, inexact reals — and, for automatic
differentiation, numbers carrying perturbations (ad/tags.py).

The fast path of every arithmetic primitive is a class check and one Python operator; the slow
path handles rationals, the variadic forms, errors, and tagged values, which it hands to the
lifting dispatcher (ad/lift.py) with the primitive's rule (ad/rules.py).  Comparisons and
predicates look through perturbations to the plain number.  Booleans are not numbers here,
although Python's are: every check is on the exact class.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import reduce
from operator import add as _python_add, mul as _python_mul, sub as _python_sub, truediv as _python_truediv

from ...ad.lift import G, combined, is_zero, lift, lift1, lift2, scaled, summed, with_tangent
from ...ad.rules import KERNELS, RULES, TOWER_RULES
from ...ad.tags import Bundle, Dual, Tracked, dual, is_number, is_tagged, live_value, normalize, plain, tracked
from ...lang.datum import MultipleValues, MutableString, Nil, Pair
from ...lang.printer import number_to_string, write_string
from ...lang.reader import parse_number
from ..errors import fail
from ..limits import check_exact_bits
from .registry import BUILTINS, define

_ABSENT = object()
EXACT = (int, Fraction)


def inexact_of(x) -> float:
    """A plain number as a float, as `inexact` and R7RS's inexact contagion convert it: an
    exact number beyond the floats' range rounds to ±inf.0 (where Python raises OverflowError)."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _beyond_floats(x, value: float) -> bool:
    """Whether the exact nonzero ``x`` lost its magnitude as the float ``value`` (overflow to
    ±inf.0, or underflow to zero or a subnormal): then a function of it is computed exactly."""
    return x != 0 and not 2.2250738585072014e-308 <= abs(value) < math.inf


_LN2 = math.log(2)


def exact_log(x) -> float:
    """The natural logarithm of an exact positive number of any size, from the bit length (as
    Racket does): log(n) = log(n / 2ᵏ) + k·log 2 with n / 2ᵏ a 53-bit integer."""
    if x.__class__ is Fraction:
        return exact_log(x.numerator) - exact_log(x.denominator)
    shift = x.bit_length() - 53
    if shift <= 0:
        return math.log(x)
    return math.log(x >> shift) + shift * _LN2


def _plain_op(operation, a, b):
    """a op b of plain numbers, a rational among them: exact, or a float where one is a float."""
    try:
        return normalize(operation(a, b))
    except OverflowError:
        return _mixed(operation, a, b)


def _mixed(operation, a, b):
    """a op b (+ − × /) of a float and an exact number beyond the floats' range, where Python's
    operator raises.  With a finite float, the exact result rounded once: (* 0.0 10⁴⁰⁰) is 0.0
    and (* 1e-300 10⁴⁰⁰) is 1e100, where converting 10⁴⁰⁰ first would give +nan.0 and +inf.0.
    With ±inf.0 or NaN, IEEE arithmetic on the exact number's float."""
    inexact, other = (a, b) if a.__class__ is float else (b, a)
    if inexact - inexact != 0:
        if operation is _python_truediv:
            return _float_quotient(inexact_of(a), inexact_of(b))
        return operation(inexact_of(a), inexact_of(b))
    result = operation(Fraction(a), Fraction(b))
    if result == 0:     # a zero float times or over the exact number: a signed zero
        return math.copysign(0.0, math.copysign(1.0, inexact) * (1 if other > 0 else -1))
    return inexact_of(result)


def _float_quotient(x: float, y: float) -> float:
    """x / y in IEEE arithmetic, where Python raises for a zero divisor."""
    if y == 0.0:
        if x != x or x == 0:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def check_number(who: str, value):
    cls = value.__class__
    if cls is int or cls is float or cls is Fraction or cls is Dual or cls is Tracked:
        return value
    fail(f"{who}: expected a number, got {write_string(value)}")


def check_integer(who: str, value):
    value = plain(value)
    if value.__class__ is int:
        return value
    if value.__class__ is float and value.is_integer():
        return value
    fail(f"{who}: expected an integer, got {write_string(value)}")


def check_index(who: str, value, limit: int) -> int:
    """An index, looked at under its perturbations (a derivative with respect to it is 0)."""
    value = plain(value)
    if value.__class__ is not int:
        fail(f"{who}: expected an exact non-negative integer index, got {write_string(value)}")
    if not 0 <= value < limit:
        fail(f"{who}: index {value} out of range [0, {limit})")
    return value



# -- arithmetic ---------------------------------------------------------------------------------
# The binary kernels are the generic operations the derivative rules are written with.

_ADD2_RULE, _SUB2_RULE, _MUL2_RULE, _DIV_RULE = RULES["+"], RULES["-"], RULES["*"], RULES["/"]
_ADD2_KERNEL, _SUB2_KERNEL, _MUL2_KERNEL, _DIV_KERNEL = KERNELS["+"], KERNELS["-"], KERNELS["*"], KERNELS["/"]


_NUMERIC = frozenset((int, float, Fraction, Dual, Tracked))


def _numbers(who, args):
    for value in args:
        if value.__class__ not in _NUMERIC:
            fail(f"{who}: expected a number, got {write_string(value)}")

# The generic + and × are what every rule and every level of a tower computes with.  Two duals
# of one tag over floats — forward mode's innermost level — take the sum and product rules
# inline, term for term as lift2 forms them (a zero direction contributes no term); so do two
# duals of one bundle tag (a Jacobian's pass), whatever their primals, unless a direction is
# zero (every coefficient 0: lift2 drops its term).  any() over the coefficients is the test
# Bundle.__eq__(0) makes — a perturbation among them is true, so not zero — in C.

def add2(a, b):
    ca, cb = a.__class__, b.__class__
    if (ca is float or ca is int) and (cb is float or cb is int):
        try:
            return a + b
        except OverflowError:        # an exact number beyond the floats met a float
            return _mixed(_python_add, a, b)
    if ca is Dual and cb is Dual and a.tag is b.tag:
        x, y, dx, dy = a.primal, b.primal, a.tangent, b.tangent
        if x.__class__ is float and y.__class__ is float and (dx.__class__ is float or dx.__class__ is int) \
                and (dy.__class__ is float or dy.__class__ is int):
            if dx != 0:
                tangent = dx + dy if dy != 0 else dx
            elif dy != 0:
                tangent = dy
            else:
                return x + y
            if tangent.__class__ is int and tangent == 0:
                return x + y
            return dual(a.tag, x + y, tangent)
        if dx.__class__ is Bundle and dy.__class__ is Bundle and any(dx.coefficients.values()) \
                and any(dy.coefficients.values()):
            return dual(a.tag, add2(x, y), summed(dx, dy))
        if dx.__class__ is not Bundle and dy.__class__ is not Bundle:
            return _tower_sum(a.tag, x, y, dx, dy)
    elif ca is Dual and (cb is float or cb is int):
        return with_tangent(a.tag, add2(a.primal, b), 1, a.tangent)
    elif cb is Dual and (ca is float or ca is int):
        return with_tangent(b.tag, add2(a, b.primal), 1, b.tangent)
    if ca is Dual or ca is Tracked or cb is Dual or cb is Tracked:
        if ca is Tracked or cb is Tracked:
            on_tape = _on_one_tape(a, b, ca, cb, 1, 1, 1)
            if on_tape is not None:
                return on_tape
        return lift2(add2, _ADD2_RULE, a, b, _ADD2_KERNEL)
    return _plain_op(_python_add, a, b)


def sub2(a, b):
    ca, cb = a.__class__, b.__class__
    if (ca is float or ca is int) and (cb is float or cb is int):
        try:
            return a - b
        except OverflowError:        # an exact number beyond the floats met a float
            return _mixed(_python_sub, a, b)
    if ca is Dual and cb is Dual and a.tag is b.tag and a.tangent.__class__ is Bundle \
            and b.tangent.__class__ is Bundle and any(a.tangent.coefficients.values()) \
            and any(b.tangent.coefficients.values()):
        return dual(a.tag, sub2(a.primal, b.primal), summed(a.tangent, scaled(-1, b.tangent)))
    if ca is Dual and (cb is float or cb is int):
        return with_tangent(a.tag, sub2(a.primal, b), 1, a.tangent)
    if cb is Dual and (ca is float or ca is int):
        return with_tangent(b.tag, sub2(a, b.primal), -1, b.tangent)
    if ca is Dual or ca is Tracked or cb is Dual or cb is Tracked:
        if ca is Tracked or cb is Tracked:
            on_tape = _on_one_tape(a, b, ca, cb, 2, 1, -1)
            if on_tape is not None:
                return on_tape
        return lift2(sub2, _SUB2_RULE, a, b, _SUB2_KERNEL)
    return _plain_op(_python_sub, a, b)


_BIG = 1 << 65536      # beyond, a product's size is checked before it is computed


def mul2(a, b):
    ca, cb = a.__class__, b.__class__
    if (ca is float or ca is int) and (cb is float or cb is int):
        if ca is int and cb is int and (a > _BIG or a < -_BIG) and (b > _BIG or b < -_BIG):
            check_exact_bits(a.bit_length() + b.bit_length(), "*")
        try:
            return a * b
        except OverflowError:        # an exact number beyond the floats met a float
            return _mixed(_python_mul, a, b)
    if ca is Dual and cb is Dual and a.tag is b.tag:
        x, y, dx, dy = a.primal, b.primal, a.tangent, b.tangent
        if x.__class__ is float and y.__class__ is float and (dx.__class__ is float or dx.__class__ is int) \
                and (dy.__class__ is float or dy.__class__ is int):
            if dx != 0:
                tangent = y * dx + x * dy if dy != 0 else y * dx
            elif dy != 0:
                tangent = x * dy
            else:
                return x * y
            return dual(a.tag, x * y, tangent)
        if dx.__class__ is Bundle and dy.__class__ is Bundle and any(dx.coefficients.values()) \
                and any(dy.coefficients.values()):
            tangent = combined(y, dx, x, dy)
            if tangent.__class__ is int and tangent == 0:       # both primals an exact 0
                return mul2(x, y)
            return dual(a.tag, mul2(x, y), tangent)
        if dx.__class__ is not Bundle and dy.__class__ is not Bundle:
            return _tower_product(a.tag, x, y, dx, dy)
    elif ca is Dual and (cb is float or cb is int):
        return with_tangent(a.tag, mul2(a.primal, b), b, a.tangent)
    elif cb is Dual and (ca is float or ca is int):
        return with_tangent(b.tag, mul2(a, b.primal), a, b.tangent)
    if ca is Dual or ca is Tracked or cb is Dual or cb is Tracked:
        if ca is Tracked or cb is Tracked:
            on_tape = _on_one_tape(a, b, ca, cb, 3, None, None)
            if on_tape is not None:
                return on_tape
        return lift2(mul2, _MUL2_RULE, a, b, _MUL2_KERNEL)
    return _plain_op(_python_mul, a, b)


def _on_one_tape(a, b, ca, cb, operation, partial_a, partial_b):
    """+ (operation 1), − (2) or × (3) of values on one tape, or of one and a plain number,
    whatever their primals (an outer derivative's duals, exact numbers): the entry lift2 would
    record, without its dispatch; None for what lift2 must decide (two tapes, a dual beside, a
    teaching tape).  The partials of × are the other primal; of + and −, the constants given."""
    if ca is Tracked:
        tag = a.tag
        if cb is Tracked:
            if b.tag is not tag:
                return None
        elif cb is not float and cb is not int:
            return None
    elif ca is float or ca is int:
        tag = b.tag
    else:
        return None
    entries = tag.inline_entries
    if entries is None:
        return None
    x = a.primal if ca is Tracked else a
    y = b.primal if cb is Tracked else b
    result = add2(x, y) if operation == 1 else sub2(x, y) if operation == 2 else mul2(x, y)
    if operation == 3:
        partial_a, partial_b = y, x
        if (ca is Tracked and y.__class__ is not float and y.__class__ is not int and y.__class__ is not Fraction) or \
                (cb is Tracked and x.__class__ is not float and x.__class__ is not int and x.__class__ is not Fraction):
            tag.tape.plain = False
    if ca is Tracked and cb is Tracked:
        entries.append((a.node, partial_a, b.node, partial_b))
    elif ca is Tracked:
        entries.append((a.node, partial_a))
    else:
        entries.append((b.node, partial_b))
    return tracked(tag, result, len(entries) - 1)


def _tower_sum(tag, x, y, dx, dy):
    """Two duals of one tag over anything but plain floats (a level of a tower): lift2's sum
    rule, term for term, without its dispatch."""
    result = add2(x, y)
    if is_zero(dx):
        tangent = None if is_zero(dy) else dy
    elif is_zero(dy):
        tangent = dx
    else:
        tangent = add2(dx, dy)
    if tangent is None or (tangent.__class__ is int and tangent == 0):
        return result
    return dual(tag, result, tangent)


def _tower_product(tag, x, y, dx, dy):
    """Two duals of one tag over anything but plain floats: lift2's product rule y·dx + x·dy,
    term for term (scaled's shortcuts for an exact 1 included), without its dispatch.  A
    product of two k-level towers makes 3ᵏ products of floats; this is the level it recurs on."""
    result = mul2(x, y)
    tangent = None
    if not is_zero(dx):
        tangent = scaled(y, dx)
    if not is_zero(dy):
        term = scaled(x, dy)
        # lift.tangent_sum written out: a call here cost a 4th derivative (W4) 3%
        if tangent is None:
            tangent = term
        elif (term.__class__ is float or term.__class__ is int) and \
                (tangent.__class__ is float or tangent.__class__ is int):
            tangent = tangent + term
        else:
            tangent = add2(tangent, term)
    if tangent is None or (tangent.__class__ is int and tangent == 0):
        return result
    return dual(tag, result, tangent)


def negate(a):
    if a.__class__ is Dual or a.__class__ is Tracked:
        return lift1(negate, RULES["negate"], a)
    return -a


def _sum(*args):
    """The sum of numbers already checked (the value part of a lifted n-ary +), left to right."""
    total = args[0]
    for value in args[1:]:
        ct, cv = total.__class__, value.__class__
        if (ct is float or ct is int) and (cv is float or cv is int):
            try:
                total = total + value
            except OverflowError:
                total = add2(total, value)
        else:
            total = add2(total, value)
    return total


_sum.operation_name = "+"


_TAGGED = object()


_FLOAT_OR_INT = frozenset((float, int))


def _plain_sum(args):
    """x₁ + … + xₙ of plain numbers, left to right, checking each as it comes; _TAGGED when one
    carries a perturbation (the caller lifts)."""
    if _FLOAT_OR_INT.issuperset(map(type, args)):
        try:
            return reduce(_python_add, args)        # what the loop below does, in C
        except OverflowError:                       # an exact number beyond the floats met a float
            return reduce(add2, args)
    total = 0
    first = True
    for value in args:
        cls = value.__class__
        if cls is float or cls is int:
            if first:
                total = value
            elif total.__class__ is float or total.__class__ is int:
                try:
                    total = total + value
                except OverflowError:
                    total = add2(total, value)
            else:
                total = add2(total, value)
        elif cls is Fraction:
            total = value if first else add2(total, value)
        elif cls is Dual or cls is Tracked:
            return _TAGGED
        else:
            fail(f"+: expected a number, got {write_string(value)}")
        first = False
    return total


def _sum_on_one_tape(args):
    """x₁ + … + xₙ recorded as one tape entry (every partial 1) when every argument is a float,
    an exact integer or a value on one tape, whatever its primal; None otherwise (the general
    path decides)."""
    tag = None
    entry = []
    primals = []
    floats = True
    for value in args:
        cls = value.__class__
        if cls is float:
            primals.append(value)
        elif cls is Tracked and (tag is None or value.tag is tag):
            tag = value.tag
            entry += (value.node, 1)
            primal = value.primal
            floats = floats and primal.__class__ is float
            primals.append(primal)
        elif cls is int:
            floats = False
            primals.append(value)
        else:
            return None
    entries = tag.inline_entries if tag is not None else None
    if entries is None:
        return None
    entries.append(tuple(entry))
    # left to right, as lift computes the value
    return tracked(tag, reduce(_python_add, primals) if floats else _sum(*primals), len(entries) - 1)


# First derivatives in reverse mode are the common case of a gradient: every operation appends
# to a tape, and the layers of the general path (primitive → lift2 → kernel) would cost more than
# the arithmetic.  So +, - and * of two values on the same tape with float primals record their
# entry here, the rule inline (ad/rules.py has the same rule; the derivative tests compare both
# modes and finite differences).  Everything else takes the general path.

@define("+", signature="(+ z …)",
        doc="The sum of the numbers; 0 for none. Exact when every argument is exact. Differentiable in "
            "every argument.")
def add(a=_ABSENT, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        try:
            return a + b
        except OverflowError:        # an exact number beyond the floats met a float
            return _mixed(_python_add, a, b)
    if ca is Tracked and not more:
        tag, x = a.tag, a.primal
        entries = tag.inline_entries
        if entries is not None and x.__class__ is float:
            if cb is Tracked:
                y = b.primal
                if b.tag is tag and y.__class__ is float:
                    entries.append((a.node, 1, b.node, 1))
                    return tracked(tag, x + y, len(entries) - 1)
            elif cb is float or cb is int:
                try:
                    value = x + b
                except OverflowError:        # an exact number beyond the floats
                    value = _mixed(_python_add, x, b)
                entries.append((a.node, 1))
                return tracked(tag, value, len(entries) - 1)
    elif cb is Tracked and (ca is float or ca is int) and not more:
        tag, y = b.tag, b.primal
        entries = tag.inline_entries
        if entries is not None and y.__class__ is float:
            try:
                value = a + y
            except OverflowError:        # an exact number beyond the floats
                value = _mixed(_python_add, a, y)
            entries.append((b.node, 1))
            return tracked(tag, value, len(entries) - 1)
    if not more and ca in _NUMERIC and cb in _NUMERIC:
        if ca is Dual or ca is Tracked or cb is Dual or cb is Tracked:
            return add2(a, b)
        return _plain_op(_python_add, a, b)
    if b is _ABSENT:
        if a is _ABSENT:
            return 0
        _numbers("+", (a,))
        return a
    args = (a, b) + more
    if ca is Tracked or cb is Tracked:
        on_one_tape = _sum_on_one_tape(args)        # it checks what it accepts
        if on_one_tape is not None:
            return on_one_tape
    total = _plain_sum(args)
    if total is not _TAGGED:
        return total
    _numbers("+", args)
    return lift(_sum, (1,) * len(args), args)      # one tape entry, every partial 1


@define("sum", signature="(sum list)",
        doc="The sum of a list of numbers, as (apply + list) but without spreading the list into "
            "arguments; in reverse mode it records one tape entry.")
def sum_of_list(items):
    """(sum list): (apply + list) — one n-ary +, so one tape entry in reverse mode — without
    the apply: a list of plain numbers, the common case, is added as it is read."""
    values = []
    plain_numbers = True
    node = items
    mark, steps, limit = None, 0, 1     # Brent's cycle check, as lists.pairs
    while node.__class__ is Pair:
        value = node.car
        cls = value.__class__
        if cls is not float and cls is not int:
            plain_numbers = False
        values.append(value)
        node = node.cdr
        if node is mark:
            fail("sum: expected a proper list, got a circular list")
        steps += 1
        if steps == limit:
            mark, steps, limit = node, 0, limit * 2
    if node is not Nil:
        fail(f"sum: expected a list, got {write_string(items)}")
    if plain_numbers:
        try:
            return reduce(_python_add, values) if values else 0     # + of plain numbers, left to right
        except OverflowError:                                       # as in _plain_sum
            return reduce(add2, values)
    return add(*values)


@define("*", signature="(* z …)",
        doc="The product of the numbers; 1 for none. Exact when every argument is exact. "
            "Differentiable in every argument.")
def multiply(a=_ABSENT, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        if ca is int and cb is int and (a > _BIG or a < -_BIG) and (b > _BIG or b < -_BIG):
            check_exact_bits(a.bit_length() + b.bit_length(), "*")
        try:
            return a * b
        except OverflowError:        # an exact number beyond the floats met a float
            return _mixed(_python_mul, a, b)
    if ca is Tracked and not more:
        tag, x = a.tag, a.primal
        entries = tag.inline_entries
        if entries is not None and x.__class__ is float:
            if cb is Tracked:
                y = b.primal
                if b.tag is tag and y.__class__ is float:
                    entries.append((a.node, y, b.node, x))
                    return tracked(tag, x * y, len(entries) - 1)
            elif cb is float or cb is int:
                try:
                    value = x * b
                except OverflowError:        # an exact number beyond the floats
                    value = _mixed(_python_mul, x, b)
                entries.append((a.node, b))
                return tracked(tag, value, len(entries) - 1)
    elif cb is Tracked and (ca is float or ca is int) and not more:
        tag, y = b.tag, b.primal
        entries = tag.inline_entries
        if entries is not None and y.__class__ is float:
            try:
                value = a * y
            except OverflowError:        # an exact number beyond the floats
                value = _mixed(_python_mul, a, y)
            entries.append((b.node, a))
            return tracked(tag, value, len(entries) - 1)
    if not more and ca in _NUMERIC and cb in _NUMERIC:
        if ca is Dual or ca is Tracked or cb is Dual or cb is Tracked:
            return mul2(a, b)
        return _plain_op(_python_mul, a, b)
    if b is _ABSENT:
        if a is _ABSENT:
            return 1
        _numbers("*", (a,))
        return a
    _numbers("*", (a, b) + more)
    product = mul2(a, b)
    for value in more:
        product = mul2(product, value)
    return product


@define("-", signature="(- z) (- z w …)",
        doc="The negation of z, or z minus every w in turn. Differentiable in every argument.")
def subtract(a, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        try:
            return a - b
        except OverflowError:        # an exact number beyond the floats met a float
            return _mixed(_python_sub, a, b)
    if ca is Tracked and not more:
        tag, x = a.tag, a.primal
        entries = tag.inline_entries
        if entries is not None and x.__class__ is float:
            if cb is Tracked:
                y = b.primal
                if b.tag is tag and y.__class__ is float:
                    entries.append((a.node, 1, b.node, -1))
                    return tracked(tag, x - y, len(entries) - 1)
            elif cb is float or cb is int:
                try:
                    value = x - b
                except OverflowError:        # an exact number beyond the floats
                    value = _mixed(_python_sub, x, b)
                entries.append((a.node, 1))
                return tracked(tag, value, len(entries) - 1)
    elif cb is Tracked and (ca is float or ca is int) and not more:
        tag, y = b.tag, b.primal
        entries = tag.inline_entries
        if entries is not None and y.__class__ is float:
            try:
                value = a - y
            except OverflowError:        # an exact number beyond the floats
                value = _mixed(_python_sub, a, y)
            entries.append((b.node, -1))
            return tracked(tag, value, len(entries) - 1)
    if not more and ca in _NUMERIC and cb in _NUMERIC:
        if ca is Dual or ca is Tracked or cb is Dual or cb is Tracked:
            return sub2(a, b)
        return _plain_op(_python_sub, a, b)
    if b is _ABSENT:
        check_number("-", a)
        return negate(a)
    args = [a, b] + list(more)
    _numbers("-", args)
    result = a
    for value in args[1:]:
        result = sub2(result, value)
    return result


def divide2(a, b):
    if a.__class__ is Dual or a.__class__ is Tracked or b.__class__ is Dual or b.__class__ is Tracked:
        if plain(b) == 0 and plain(b).__class__ is not float:
            fail(f"/: division by zero ({write_string(plain(a))} / 0)")
        return lift2(divide2, _DIV_RULE, a, b, _DIV_KERNEL)
    if b.__class__ is not float and b == 0:
        fail(f"/: division by zero ({write_string(a)} / 0)")
    if b.__class__ is float or a.__class__ is float:
        exact = a if b.__class__ is float else b
        if b != 0 and exact.__class__ is not float and _beyond_floats(exact, inexact_of(exact)):
            return _mixed(_python_truediv, a, b)
        return _float_quotient(inexact_of(a), inexact_of(b))
    return normalize(Fraction(a) / b)


@define("/", signature="(/ z) (/ z w …)",
        doc="The reciprocal of z, or z divided by every w in turn; exact division of exact numbers "
            "gives a rational (1/3). Dividing an exact number by exact 0 is an error. Differentiable in "
            "every argument.")
def divide(a, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if ca is float and (cb is float or cb is int) and b and not more:
        try:
            return a / b
        except OverflowError:        # an exact divisor beyond the floats
            return _mixed(_python_truediv, a, b)
    if ca is Tracked and cb is Tracked and not more:      # as for + - *, the rule of _DIV_KERNEL
        tag, x, y = a.tag, a.primal, b.primal
        entries = tag.inline_entries
        if entries is not None and b.tag is tag and x.__class__ is float and y.__class__ is float and y * y:
            entries.append((a.node, 1 / y, b.node, -x / (y * y)))
            return tracked(tag, x / y, len(entries) - 1)
    if b is _ABSENT:
        check_number("/", a)
        return divide2(1, a)
    args = [a, b] + list(more)
    _numbers("/", args)
    result = a
    for value in args[1:]:
        result = divide2(result, value)
    return result


def _compare(who, op, a, b, more):
    args = (a, b) + more
    _numbers(who, args)
    args = [plain(x) for x in args]
    for x, y in zip(args, args[1:]):
        if not op(x, y):
            return False
    return True


@define("=", signature="(= z w …)",
        doc="Whether the numbers are all equal. Under a derivative it compares the numbers under the "
            "perturbations (the primals).")
def num_eq(a, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        return a == b
    if b is _ABSENT:
        check_number("=", a)
        return True
    return _compare("=", lambda x, y: x == y, a, b, more)


@define("<", signature="(< x y …)",
        doc="Whether the numbers are strictly increasing. Compares primals under a derivative, so a "
            "branch takes the way its primal takes.")
def num_lt(a, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        return a < b
    if b is _ABSENT:
        check_number("<", a)
        return True
    return _compare("<", lambda x, y: x < y, a, b, more)


@define(">", signature="(> x y …)",
        doc="Whether the numbers are strictly decreasing. Compares primals under a derivative.")
def num_gt(a, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        return a > b
    if b is _ABSENT:
        check_number(">", a)
        return True
    return _compare(">", lambda x, y: x > y, a, b, more)


@define("<=", signature="(<= x y …)",
        doc="Whether the numbers are non-decreasing. Compares primals under a derivative.")
def num_le(a, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        return a <= b
    if b is _ABSENT:
        check_number("<=", a)
        return True
    return _compare("<=", lambda x, y: x <= y, a, b, more)


@define(">=", signature="(>= x y …)",
        doc="Whether the numbers are non-increasing. Compares primals under a derivative.")
def num_ge(a, b=_ABSENT, *more):
    ca, cb = a.__class__, b.__class__
    if (ca is int or ca is float) and (cb is int or cb is float) and not more:
        return a >= b
    if b is _ABSENT:
        check_number(">=", a)
        return True
    return _compare(">=", lambda x, y: x >= y, a, b, more)


def _extremum(who, better, first, rest):
    """max and min pick an argument, perturbation and all: they differentiate like the `if`
    that defines them (at a tie, the first of the tied arguments)."""
    args = (first,) + rest
    _numbers(who, args)
    result = first
    inexact = plain(first).__class__ is float
    for value in rest:
        number = plain(value)
        inexact = inexact or number.__class__ is float
        if number != number:
            result = value
        elif plain(result) == plain(result) and better(number, plain(result)):
            result = value
    if result.__class__ is Dual or result.__class__ is Tracked:
        result = live_value(result)     # an argument that outlived its derivative is its number
    return inexact_(result) if inexact else result


@define("max", signature="(max x y …)",
        doc="The largest argument (inexact if any argument is). It differentiates like the if that "
            "defines it: the derivative is that of the argument chosen, the first of tied ones.")
def maximum(first, *rest):
    return _extremum("max", lambda x, y: x > y, first, rest)


@define("min", signature="(min x y …)",
        doc="The smallest argument (inexact if any argument is). It differentiates like the if that "
            "defines it: the derivative is that of the argument chosen, the first of tied ones.")
def minimum(first, *rest):
    return _extremum("min", lambda x, y: x < y, first, rest)


@define("abs", "magnitude", signature="(abs x)",
        doc="The absolute value of x. Its derivative at 0 is taken to be 0. magnitude is the same "
            "procedure (there are no complex numbers).")
def absolute(x):
    check_number("abs", x)
    if x.__class__ is Dual or x.__class__ is Tracked:
        return lift(absolute, RULES["abs"], (x,))
    return -x if x < 0 else x


# -- predicates ---------------------------------------------------------------------------------

@define("number?", "complex?", "real?", signature="(number? obj)",
        doc="Whether obj is a number (an exact integer or rational, or a float), looking under "
            "perturbations. complex? and real? are the same: nablisp has no complex numbers.")
def number_p(x):
    return is_number(x)


@define("rational?", signature="(rational? obj)",
        doc="Whether obj is a rational number: an exact integer or rational, or a finite float.")
def rational_p(x):
    x = plain(x)
    cls = x.__class__
    return cls is int or cls is Fraction or (cls is float and math.isfinite(x))


@define("integer?", signature="(integer? obj)",
        doc="Whether obj is an integer: exact, or a float with no fractional part (2.0).")
def integer_p(x):
    x = plain(x)
    cls = x.__class__
    return cls is int or (cls is float and x.is_integer())


@define("exact?", signature="(exact? z)",
        doc="Whether the number z is exact (an integer or a rational such as 1/3).")
def exact_p(x):
    check_number("exact?", x)
    return plain(x).__class__ is not float


@define("inexact?", signature="(inexact? z)",
        doc="Whether the number z is inexact (a float).")
def inexact_p(x):
    check_number("inexact?", x)
    return plain(x).__class__ is float


@define("exact-integer?", signature="(exact-integer? obj)",
        doc="Whether obj is an exact integer.")
def exact_integer_p(x):
    return plain(x).__class__ is int


@define("exact-rational?", signature="(exact-rational? obj)",
        doc="Whether obj is an exact number: an exact integer or rational.")
def exact_rational_p(x):
    x = plain(x)
    return x.__class__ is int or x.__class__ is Fraction


@define("exact-nonnegative-integer?", signature="(exact-nonnegative-integer? obj)",
        doc="Whether obj is an exact integer that is 0 or more: a count, an index, an order of "
            "derivative.")
def exact_nonnegative_integer_p(x):
    x = plain(x)
    return x.__class__ is int and x >= 0


@define("nan?", signature="(nan? z)",
        doc="Whether z is the float +nan.0.")
def nan_p(x):
    x = plain(check_number("nan?", x))
    return x.__class__ is float and math.isnan(x)


@define("infinite?", signature="(infinite? z)",
        doc="Whether z is +inf.0 or -inf.0.")
def infinite_p(x):
    x = plain(check_number("infinite?", x))
    return x.__class__ is float and math.isinf(x)


@define("finite?", signature="(finite? z)",
        doc="Whether z is neither infinite nor +nan.0.")
def finite_p(x):
    x = plain(check_number("finite?", x))
    return x.__class__ is not float or math.isfinite(x)


@define("zero?", signature="(zero? z)",
        doc="Whether z is 0 (or 0.0 or -0.0), looking at the primal under a derivative.")
def zero_p(x):
    return plain(check_number("zero?", x)) == 0


@define("positive?", signature="(positive? x)",
        doc="Whether x is greater than 0.")
def positive_p(x):
    return plain(check_number("positive?", x)) > 0


@define("negative?", signature="(negative? x)",
        doc="Whether x is less than 0.")
def negative_p(x):
    return plain(check_number("negative?", x)) < 0


@define("odd?", signature="(odd? n)",
        doc="Whether the integer n is odd.")
def odd_p(x):
    return check_integer("odd?", x) % 2 == 1


@define("even?", signature="(even? n)",
        doc="Whether the integer n is even.")
def even_p(x):
    return check_integer("even?", x) % 2 == 0


# -- integer division ---------------------------------------------------------------------------

def _integer_pair(who, a, b):
    a = check_integer(who, a)
    b = check_integer(who, b)
    if b == 0:
        fail(f"{who}: division by zero")
    inexact = a.__class__ is float or b.__class__ is float
    return int(a), int(b), inexact


def _result(value, inexact):
    return inexact_of(value) if inexact else value


@define("floor/", signature="(floor/ n d)",
        doc="Two values: the quotient rounded toward negative infinity and the remainder, which has "
            "the sign of d (R7RS floor division).")
def floor_div(a, b):
    x, y, inexact = _integer_pair("floor/", a, b)
    q, r = divmod(x, y)
    return MultipleValues((_result(q, inexact), _result(r, inexact)))


@define("floor-quotient", signature="(floor-quotient n d)",
        doc="The quotient of n by d rounded toward negative infinity.")
def floor_quotient(a, b):
    x, y, inexact = _integer_pair("floor-quotient", a, b)
    return _result(x // y, inexact)


@define("floor-remainder", "modulo", signature="(floor-remainder n d)",
        doc="The remainder of floor division: n - d·(floor-quotient n d), with the sign of d. modulo "
            "is the same procedure.")
def floor_remainder(a, b):
    x, y, inexact = _integer_pair("modulo", a, b)
    return _result(x % y, inexact)


def _truncate_divmod(x, y):
    q = abs(x) // abs(y)
    if (x < 0) != (y < 0):
        q = -q
    return q, x - q * y


@define("truncate/", signature="(truncate/ n d)",
        doc="Two values: the quotient rounded toward zero and the remainder, which has the sign of n.")
def truncate_div(a, b):
    x, y, inexact = _integer_pair("truncate/", a, b)
    q, r = _truncate_divmod(x, y)
    return MultipleValues((_result(q, inexact), _result(r, inexact)))


@define("truncate-quotient", "quotient", signature="(truncate-quotient n d)",
        doc="The quotient of n by d rounded toward zero. quotient is the same procedure.")
def truncate_quotient(a, b):
    x, y, inexact = _integer_pair("quotient", a, b)
    return _result(_truncate_divmod(x, y)[0], inexact)


@define("truncate-remainder", "remainder", signature="(truncate-remainder n d)",
        doc="The remainder of truncating division, with the sign of n. remainder is the same "
            "procedure.")
def truncate_remainder(a, b):
    x, y, inexact = _integer_pair("remainder", a, b)
    return _result(_truncate_divmod(x, y)[1], inexact)


@define("gcd", signature="(gcd n …)",
        doc="The greatest common divisor of the integers, always non-negative; 0 for none.")
def gcd(*args):
    result, inexact = 0, False
    for value in args:
        value = check_integer("gcd", value)
        inexact = inexact or value.__class__ is float
        result = math.gcd(result, int(value))
    return _result(result, inexact)


@define("lcm", signature="(lcm n …)",
        doc="The least common multiple of the integers, always non-negative; 1 for none.")
def lcm(*args):
    result, inexact = 1, False
    for value in args:
        value = check_integer("lcm", value)
        inexact = inexact or value.__class__ is float
        value = abs(int(value))
        if value == 0:
            return _result(0, inexact)
        result = result * value // math.gcd(result, value)
    return _result(result, inexact)


def _check_rational(who, x):
    x = plain(check_number(who, x))
    if x.__class__ is float and x - x != 0:
        fail(f"{who}: expected a rational number, got {write_string(x)}")
    return x


@define("numerator", signature="(numerator q)",
        doc="The numerator of the rational q in lowest terms (inexact for a float).")
def numerator(x):
    x = _check_rational("numerator", x)
    if x.__class__ is float:
        return float(Fraction(x).numerator)
    return x.numerator if x.__class__ is Fraction else x


@define("denominator", signature="(denominator q)",
        doc="The denominator of the rational q in lowest terms, always positive (inexact for a float).")
def denominator(x):
    x = _check_rational("denominator", x)
    if x.__class__ is float:
        return inexact_of(Fraction(x).denominator)     # a subnormal's is 2¹⁰⁷⁴: +inf.0
    return x.denominator if x.__class__ is Fraction else 1


# -- rounding -----------------------------------------------------------------------------------

def _rounding(who, function):
    def rounded(x):
        # a step function: derivative 0, so the result is the plain rounded number
        x = plain(check_number(who, x))
        if x.__class__ is float:
            if not math.isfinite(x):
                return x
            return float(function(x))
        return function(x) if x.__class__ is Fraction else x
    return rounded


define("floor", signature="(floor x)",
       doc="The largest integer not greater than x (a float for a float). A step function: its "
           "derivative is 0.")(_rounding("floor", math.floor))
define("ceiling", signature="(ceiling x)",
       doc="The smallest integer not less than x (a float for a float). A step function: its "
           "derivative is 0.")(_rounding("ceiling", math.ceil))
define("truncate", signature="(truncate x)",
       doc="The integer nearest x toward zero (a float for a float). A step function: its derivative "
           "is 0.")(_rounding("truncate", math.trunc))
define("round", signature="(round x)",
       doc="The integer nearest x, ties to even (a float for a float). A step function: its derivative "
           "is 0.")(_rounding("round", round))


@define("rationalize", signature="(rationalize x y)",
        doc="The simplest rational number that differs from x by no more than y (R7RS): (rationalize "
            "3/10 1/10) is 1/3.")
def rationalize(x, y):
    x = plain(check_number("rationalize", x))
    y = plain(check_number("rationalize", y))
    inexact = x.__class__ is float or y.__class__ is float
    if inexact and (not math.isfinite(inexact_of(x)) or not math.isfinite(inexact_of(y))):
        x, y = inexact_of(x), inexact_of(y)
        if math.isinf(y) and math.isfinite(x):
            return 0.0
        # every number lies within +inf.0 of +inf.0, so no one of them is the simplest
        return math.nan if math.isnan(x) or math.isnan(y) or math.isinf(y) else x
    fx, fy = Fraction(x), abs(Fraction(y))
    low, high = fx - fy, fx + fy
    result = _simplest_between(low, high)
    return inexact_of(result) if inexact else normalize(result)


def _simplest_between(low: Fraction, high: Fraction) -> Fraction:
    if low > 0:
        return _simplest_positive(low, high)
    if high < 0:
        return -_simplest_positive(-high, -low)
    return Fraction(0)


def _simplest_positive(low: Fraction, high: Fraction) -> Fraction:
    # Stern–Brocot descent, iterative
    terms = []
    while True:
        floor_low = math.floor(low)
        if floor_low == low:
            terms.append(Fraction(floor_low))
            break
        if floor_low < math.floor(high):
            terms.append(Fraction(floor_low + 1))
            break
        terms.append(Fraction(floor_low))
        low, high = 1 / (high - floor_low), 1 / (low - floor_low)
    result = terms.pop()
    while terms:
        result = terms.pop() + 1 / result
    return result


# -- transcendental functions -------------------------------------------------------------------

def _float_of(who, x) -> float:
    check_number(who, x)
    return inexact_of(x)


def _unary(name, function, doc, domain=None, beyond_floats=None):
    """The primitive ``name`` computing ``function`` of a float.  ``beyond_floats(x)`` computes
    it of an exact number that has no float of its magnitude, where the float's ±inf.0 or 0.0
    would give the wrong answer (asinh of 10⁴⁰⁰ is finite)."""
    rule = RULES[name]
    kernel = KERNELS.get(name)
    tower = TOWER_RULES.get(name)

    def transcendental(x):
        cls = x.__class__
        if cls is float and (domain is None or domain(x)):
            try:
                return function(x)
            except (ValueError, OverflowError):
                pass
        elif cls is Tracked and kernel is not None and x.primal.__class__ is float and x.tag.inline_entries is not None:
            out = kernel(x.primal)          # a first derivative in reverse mode, as for + - *
            if out is not None:
                entries = x.tag.inline_entries
                entries.append((x.node, out[1]))
                return tracked(x.tag, out[0], len(entries) - 1)
            return lift1(transcendental, rule, x)       # the kernel declined: the rule decides
        elif cls is Dual or cls is Tracked:
            return lift1(transcendental, rule, x, kernel, tower)
        value = _float_of(name, x)
        if beyond_floats is not None and cls is not float and _beyond_floats(x, value):
            return beyond_floats(x)
        if domain is not None and not domain(value):
            fail(f"{name}: {write_string(x)} is outside the domain (complex numbers are not supported)")
        try:
            return function(value)
        except OverflowError:
            return math.inf
        except ValueError:
            fail(f"{name}: {write_string(x)} is outside the domain")
    define(name, signature=f"({name} z)", doc=doc)(transcendental)
    return transcendental


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _periodic(function):
    """sin, cos, tan of ±inf.0 are NaN in IEEE arithmetic (Python raises instead)."""
    def periodic(x):
        return function(x) if x - x == 0 else math.nan
    return periodic


def _asinh_beyond_floats(x):
    # asinh x = sign(x)·log(|x| + sqrt(x² + 1)), and sqrt(x² + 1) is |x| to the last bit here
    magnitude = exact_log(abs(x)) + _LN2 if abs(x) > 1 else inexact_of(x)
    return magnitude if x > 0 else -magnitude


def _acosh_beyond_floats(x):
    if x < 1:
        fail(f"acosh: {write_string(x)} is outside the domain (complex numbers are not supported)")
    return exact_log(x) + _LN2


_unary("exp", _exp, "e to the power z, a float. Differentiable: its derivative is exp.")
_unary("sin", _periodic(math.sin), "The sine of z (radians), a float. Differentiable: its derivative is cos.")
_unary("cos", _periodic(math.cos), "The cosine of z (radians), a float. Differentiable: its derivative is -sin.")
_unary("tan", _periodic(math.tan), "The tangent of z (radians), a float. Differentiable: its derivative is "
       "1 + tan².")
_unary("asin", math.asin, "The arcsine of z, for z in [-1, 1]. Differentiable inside the interval; at ±1, "
       "where the derivative is infinite, a derivative is an error.",
       lambda v: -1 <= v <= 1 or math.isnan(v))
_unary("acos", math.acos, "The arccosine of z, for z in [-1, 1]. Differentiable inside the interval; at "
       "±1, where the derivative is infinite, a derivative is an error.",
       lambda v: -1 <= v <= 1 or math.isnan(v))
_unary("sinh", math.sinh, "The hyperbolic sine of z. Differentiable: its derivative is cosh.")
_unary("cosh", math.cosh, "The hyperbolic cosine of z. Differentiable: its derivative is sinh.")
_unary("tanh", math.tanh, "The hyperbolic tangent of z. Differentiable: its derivative is 1 - tanh².")
_unary("asinh", math.asinh, "The inverse hyperbolic sine of z. Differentiable.",
       beyond_floats=_asinh_beyond_floats)
_unary("acosh", math.acosh, "The inverse hyperbolic cosine of z, for z ≥ 1. Differentiable for z > 1.",
       lambda v: v >= 1 or math.isnan(v), beyond_floats=_acosh_beyond_floats)
_unary("atanh", math.atanh, "The inverse hyperbolic tangent of z, for z in (-1, 1). Differentiable there.",
       lambda v: -1 < v < 1 or math.isnan(v))


def atan1(x):
    if x.__class__ is Dual or x.__class__ is Tracked:
        return lift(atan1, RULES["atan"], (x,))
    return math.atan(_float_of("atan", x))


def atan2(y, x):
    if is_tagged(y) or is_tagged(x):
        return lift(atan2, RULES["atan2"], (y, x))
    fy, fx = _float_of("atan", y), _float_of("atan", x)
    if y.__class__ is not float and x.__class__ is not float:
        if y == 0 and x == 0:
            fail("atan: (atan 0 0) is undefined")
        if _beyond_floats(y, fy) or _beyond_floats(x, fx):
            # only the ratio matters: scaled exactly into [-1, 1], both have floats
            largest = max(abs(Fraction(y)), abs(Fraction(x)))
            fy, fx = float(y / largest), float(x / largest)
    return math.atan2(fy, fx)


@define("atan", signature="(atan z) (atan y x)",
        doc="The arctangent of z; with two arguments, the angle of the point (x, y), in (-π, π]. "
            "Differentiable in both arguments; (atan 0 0) is an error.")
def atan(y, x=_ABSENT):
    return atan1(y) if x is _ABSENT else atan2(y, x)


def _log1(x, who="log"):
    value = _float_of(who, x)
    if x < 0:
        fail(f"{who}: {write_string(x)} is negative (complex numbers are not supported)")
    if x.__class__ is not float and _beyond_floats(x, value):
        return exact_log(x)
    if value == 0:
        return -math.inf
    return math.log(value)


_LOG_KERNEL = KERNELS["log"]


def log1(x):
    if x.__class__ is Dual or x.__class__ is Tracked:
        return lift1(log1, RULES["log"], x, _LOG_KERNEL)
    return _log1(x)


@define("log", signature="(log z) (log z base)",
        doc="The natural logarithm of z, or its logarithm to base: (log 0) is -inf.0, a negative z "
            "is an error (no complex numbers). Differentiable for z > 0: its derivative is 1/z.")
def log(x, base=_ABSENT):
    if base is _ABSENT:
        return log1(x)
    if plain(base) == 1:
        fail("log: base 1 is not allowed")
    return divide2(log1(x), log1(base))


_SQUARE_KERNEL = KERNELS["square"]


@define("square", signature="(square z)",
        doc="z times z; exact for an exact z. Differentiable.")
def square(x):
    cls = x.__class__
    if cls is int or cls is float:
        if cls is int and (x > _BIG or x < -_BIG):
            check_exact_bits(2 * x.bit_length(), "square")
        return x * x
    check_number("square", x)
    if cls is Dual or cls is Tracked:
        return lift1(square, RULES["square"], x, _SQUARE_KERNEL)
    return normalize(x * x)


def _exact_root(x):
    """The exact square root of a non-negative exact number, or None."""
    if x.__class__ is int:
        root = math.isqrt(x)
        return root if root * root == x else None
    n = _exact_root(x.numerator)
    d = _exact_root(x.denominator)
    return Fraction(n, d) if n is not None and d is not None else None


_SQRT_KERNEL, _SQRT_TOWER = KERNELS["sqrt"], TOWER_RULES["sqrt"]


@define("sqrt", signature="(sqrt z)",
        doc="The square root of z: exact when z is an exact square (4, 1/4), a float otherwise; "
            "negative numbers are an error (no complex numbers). Differentiable for z > 0; its derivative "
            "at 0 is infinite, an error.")
def sqrt(x):
    check_number("sqrt", x)
    if x.__class__ is Dual or x.__class__ is Tracked:
        if plain(x) < 0:
            fail(f"sqrt: {write_string(plain(x))} is negative (complex numbers are not supported)")
        return lift1(sqrt, RULES["sqrt"], x, _SQRT_KERNEL, _SQRT_TOWER)
    if x < 0:
        fail(f"sqrt: {write_string(x)} is negative (complex numbers are not supported)")
    if x.__class__ is not float:
        root = _exact_root(x)
        if root is not None:
            return root
        value = inexact_of(x)
        if _beyond_floats(x, value):
            return _inexact_root(x)
        return math.sqrt(value)
    return math.sqrt(x)


def _inexact_root(x) -> float:
    """The square root, as a float, of an exact positive number without a float of its
    magnitude: the integer square root of x·4ˢ, with s giving the root 64 bits or more, over 2ˢ."""
    x = Fraction(x)
    p, q = x.numerator, x.denominator
    s = max(0, 64 - (p.bit_length() - q.bit_length()) // 2)
    return inexact_of(Fraction(math.isqrt((p << (2 * s)) // q), 1 << s))


@define("exact-integer-sqrt", signature="(exact-integer-sqrt k)",
        doc="Two values s and r with s² + r = k and s the largest such integer, for an exact "
            "non-negative integer k.")
def exact_integer_sqrt(n):
    n = plain(n)
    if n.__class__ is not int or n < 0:
        fail(f"exact-integer-sqrt: expected an exact non-negative integer, got {write_string(n)}")
    root = math.isqrt(n)
    return MultipleValues((root, n - root * root))


@define("expt", signature="(expt z w)",
        doc="z to the power w: exact when z is exact and w an exact integer, or the result is an "
            "exact root ((expt 4 1/2) is 2). Differentiable in both; in w only where z is positive "
            "(the derivative uses log z).")
def expt(base, power):
    check_number("expt", base)
    check_number("expt", power)
    if is_tagged(base) or is_tagged(power):
        if plain(base) == 0 and plain(power) < 0:
            fail("expt: division by zero (0 raised to a negative power)")
        return lift(expt, RULES["expt"], (base, power))
    if power.__class__ is int and base.__class__ is not float:
        if base == 0 and power < 0:
            fail("expt: division by zero (0 raised to a negative power)")
        _check_exact_power(base, power)
        return normalize(Fraction(base) ** power) if power < 0 or base.__class__ is Fraction else base ** power
    if power.__class__ is Fraction and base.__class__ is not float and base >= 0:
        root = _exact_root(Fraction(base)) if power.denominator == 2 else None
        if root is not None:
            return expt(normalize(root), power.numerator)
    if base == 0 and power.__class__ is not int and power < 0:
        return math.inf
    if base < 0 and not _is_integer(power):
        fail(f"expt: {write_string(base)} to a non-integer power (complex numbers are not supported)")
    fbase, fpower = inexact_of(base), inexact_of(power)
    negative = (fbase < 0 or (fbase == 0 and math.copysign(1.0, fbase) < 0)) and _is_odd(power)
    if base.__class__ is not float and power.__class__ is not int and fpower - fpower == 0 and \
            _beyond_floats(base, fbase):
        magnitude = _power_beyond_floats(base, fpower)
    else:
        try:
            magnitude = abs(fbase) ** fpower
        except (OverflowError, ZeroDivisionError):          # IEEE: +inf.0 (0.0 to a negative power too)
            magnitude = math.inf
    return -magnitude if negative else magnitude


def _power_beyond_floats(base, p: float) -> float:
    """|base|ᵖ for an exact base without a float of its magnitude.  With |base| = m·2ᵏ, m in
    [1, 2), it is mᵖ·2^(k·p), k·p split exactly into a whole and a fraction: a float's error,
    where exp(p·log|base|) would multiply log's error by hundreds."""
    x = abs(Fraction(base))
    k = x.numerator.bit_length() - x.denominator.bit_length()
    m = x / Fraction(2) ** k
    if m < 1:
        m, k = m * 2, k - 1
    e = Fraction(p) * k
    if abs(e) > 2200:               # far beyond every float's exponent, whatever mᵖ adds
        return math.inf if e > 0 else 0.0
    whole = math.floor(e)
    try:
        return math.ldexp(float(m) ** p * 2.0 ** float(e - whole), whole)
    except OverflowError:
        return math.inf


def _check_exact_power(base, power: int):
    """An exact power is one C call nothing interrupts: one too large is refused before it starts."""
    if power in (0, 1, -1) or abs(base) in (0, 1):
        return
    size = max(base.numerator.bit_length(), base.denominator.bit_length())
    check_exact_bits(max(size - 1, 1) * abs(power), "expt")


def _is_integer(x) -> bool:
    return x.__class__ is int or (x.__class__ is float and x.is_integer())


def _is_odd(x) -> bool:
    return _is_integer(x) and x % 2 == 1


@define("exact", "inexact->exact", signature="(exact z)",
        doc="The exact number equal to the float z (0.5 → 1/2); exact numbers are returned as they "
            "are. inexact->exact is the same procedure.")
def exact(x):
    check_number("exact", x)
    if is_tagged(x):
        return lift(exact, RULES["identity"], (x,))
    if x.__class__ is float:
        if not math.isfinite(x):
            fail(f"exact: {write_string(x)} has no exact representation")
        return normalize(Fraction(x))
    return x


@define("inexact", "exact->inexact", signature="(inexact z)",
        doc="The float nearest z. exact->inexact is the same procedure.")
def inexact_(x):
    if is_tagged(x):
        return lift(inexact_, RULES["identity"], (x,))
    return _float_of("inexact", x)


@define("number->string", signature="(number->string z [radix])",
        doc="The text of the number z, in base radix (2, 8, 10 or 16; 10 by default), which "
            "string->number reads back.")
def number_to_string_(x, radix=10):
    x = plain(check_number("number->string", x))
    radix = plain(radix)
    if radix not in (2, 8, 10, 16):
        fail(f"number->string: radix must be 2, 8, 10 or 16, got {write_string(radix)}")
    if x.__class__ is float and radix != 10:
        fail("number->string: inexact numbers are written in radix 10 only")
    return number_to_string(x, radix)


@define("string->number", signature="(string->number string [radix])",
        doc="The number string denotes, in base radix (10 by default), or #f when it is not a number.")
def string_to_number(text, radix=10):
    if text.__class__ is MutableString:
        text = str(text)
    if text.__class__ is not str:
        fail(f"string->number: expected a string, got {write_string(text)}")
    radix = plain(radix)
    if radix not in (2, 8, 10, 16):
        fail(f"string->number: radix must be 2, 8, 10 or 16, got {write_string(radix)}")
    try:
        value = parse_number(text, radix)
    except ZeroDivisionError:
        return False
    return False if value is None else value


# The generic operations the derivative rules are written with are these primitives.
G.add, G.sub, G.mul, G.div, G.neg = add2, sub2, mul2, divide2, negate
G.log, G.sqrt, G.expt, G.square = log1, sqrt, expt, square
for _name in ("sin", "cos", "tan", "exp", "sinh", "cosh", "tanh"):
    setattr(G, _name, BUILTINS[_name])

# How the teaching tools (ad/teaching.py) name the operations on a tape
for _kernel, _name in ((add2, "+"), (sub2, "-"), (mul2, "*"), (divide2, "/"), (negate, "-"),
                       (log1, "log"), (atan1, "atan"), (atan2, "atan"), (inexact_, "inexact")):
    _kernel.operation_name = _name
