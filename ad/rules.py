"""The derivative rules: one entry per differentiable primitive, each partial written with the
generic operations (G), so that a rule can itself be differentiated — or a constant, when the
partial is one (the 1s of +), which saves a call on the hottest path.

A partial that is undefined at the point raises DifferentiationError naming the primitive and
the point; README.md lists these conventions.
"""

from __future__ import annotations

import math

from .lift import G, twin_descent
from .tags import DifferentiationError, plain


def singular(name: str, point) -> DifferentiationError:
    from ..lang.printer import write_string
    return DifferentiationError(f"{name}: not differentiable at {write_string(plain(point))}")


def _div_wrt_a(a, b):
    return G.div(1, b)


def _div_wrt_b(a, b):
    return G.neg(G.div(a, G.mul(b, b)))


def _log(x):
    if plain(x) == 0:
        raise singular("log", x)
    return G.div(1, x)


def _sqrt(x):
    if plain(x) == 0:
        raise singular("sqrt", x)
    return G.div(1, G.mul(2, G.sqrt(x)))


def _expt_wrt_base(a, b):
    if plain(b) == 0:
        return 0
    if plain(a) == 0 and plain(b) < 1 and plain(b) != int(plain(b)):
        raise singular("expt", a)
    return G.mul(b, G.expt(a, G.sub(b, 1)))


def _expt_wrt_power(a, b):
    base = plain(a)
    if base == 0:
        if plain(b) > 0:
            return 0
        raise singular("expt", a)
    if base < 0:
        raise DifferentiationError(f"expt: the derivative with respect to the power needs a positive "
                                   f"base, got {base}")
    return G.mul(G.log(a), G.expt(a, b))


def _atan2_wrt_y(y, x):
    denominator = G.add(G.mul(x, x), G.mul(y, y))
    if plain(denominator) == 0:
        raise singular("atan", 0)
    return G.div(x, denominator)


def _atan2_wrt_x(y, x):
    denominator = G.add(G.mul(x, x), G.mul(y, y))
    if plain(denominator) == 0:
        raise singular("atan", 0)
    return G.neg(G.div(y, denominator))


def _asin(x):
    if abs(plain(x)) == 1:
        raise singular("asin", x)
    return G.div(1, G.sqrt(G.sub(1, G.mul(x, x))))


def _acos(x):
    if abs(plain(x)) == 1:
        raise singular("acos", x)
    return G.neg(G.div(1, G.sqrt(G.sub(1, G.mul(x, x)))))


def _abs(x):
    value = plain(x)
    return 1 if value > 0 else -1 if value < 0 else 0


def _acosh(x):
    if plain(x) == 1:
        raise singular("acosh", x)
    return G.div(1, G.sqrt(G.sub(G.mul(x, x), 1)))


def _atanh(x):
    if abs(plain(x)) == 1:
        raise singular("atanh", x)
    return G.div(1, G.sub(1, G.mul(x, x)))


def _tanh(x):
    t = G.tanh(x)
    return G.sub(1, G.mul(t, t))


def _tan(x):
    t = G.tan(x)
    return G.add(1, G.mul(t, t))


# name → partials, one per argument: a function of the arguments, or a constant
RULES = {
    "+": (1, 1),
    "-": (1, -1),
    "negate": (-1,),
    "*": (lambda a, b: b, lambda a, b: a),
    "/": (_div_wrt_a, _div_wrt_b),
    "identity": (1,),
    "sin": (lambda x: G.cos(x),),
    "cos": (lambda x: G.neg(G.sin(x)),),
    "tan": (_tan,),
    "exp": (lambda x: G.exp(x),),
    "log": (_log,),
    "sqrt": (_sqrt,),
    "square": (lambda x: G.mul(2, x),),
    "expt": (_expt_wrt_base, _expt_wrt_power),
    "atan": (lambda x: G.div(1, G.add(1, G.mul(x, x))),),
    "atan2": (_atan2_wrt_y, _atan2_wrt_x),
    "asin": (_asin,),
    "acos": (_acos,),
    "sinh": (lambda x: G.cosh(x),),
    "cosh": (lambda x: G.sinh(x),),
    "tanh": (_tanh,),
    "asinh": (lambda x: G.div(1, G.sqrt(G.add(G.mul(x, x), 1))),),
    "acosh": (_acosh,),
    "atanh": (_atanh,),
    "abs": (_abs,),
}


# Tower rules: for a tagged primal (one level of a tower of nested derivatives), the value and the
# partial together, where the rule above would compute the function again (exp, tanh, tan, sqrt)
# or its twin (sin and cos, sinh and cosh), which computes the function in turn: a fourth
# derivative of sin would descend the tower 2⁴ times.  Same operations on the same values as
# the rules, so the same numbers.

def _sqrt_tower(x):
    root = G.sqrt(x)
    if plain(x) == 0:
        raise singular("sqrt", x)
    return root, G.div(1, G.mul(2, root))


def _from_value(function, partial_of_value):
    def tower(x):
        value = function(x)
        return value, partial_of_value(value)
    return tower


def _sin_and_cos(x):
    return G.sin(x), G.cos(x)


def _sinh_and_cosh(x):
    return G.sinh(x), G.cosh(x)


def _cos_then_sin(x):
    # cos first at the bottom, as the rule's path computes it first: the same error, if any
    c = G.cos(x)
    return G.sin(x), c


def _cosh_then_sinh(x):
    c = G.cosh(x)
    return G.sinh(x), c


def _cos_tower(x):
    s, c = twin_descent(x, _cos_then_sin, -1)
    return c, G.neg(s)


def _cosh_tower(x):
    s, c = twin_descent(x, _cosh_then_sinh, 1)
    return c, s


TOWER_RULES = {
    "exp": _from_value(lambda x: G.exp(x), lambda value: value),
    "tanh": _from_value(lambda x: G.tanh(x), lambda t: G.sub(1, G.mul(t, t))),
    "tan": _from_value(lambda x: G.tan(x), lambda t: G.add(1, G.mul(t, t))),
    "sqrt": _sqrt_tower,
    "sin": lambda x: twin_descent(x, _sin_and_cos, -1),
    "cos": _cos_tower,
    "sinh": lambda x: twin_descent(x, _sinh_and_cosh, 1),
    "cosh": _cosh_tower,
}


# Float kernels: for plain primals (floats, or an exact integer with a float), the value and every
# partial in one call.  In a first derivative each primitive would otherwise make three calls for
# three floats.  A kernel returns None where it declines — a singular point, the edge of the
# domain, an overflow — and the primitive and its rule then give the exact behaviour and error.
# Each must compute the same floats as the primitive and its rule.

def _kernel_div(x, y):
    # an exact divisor keeps the exact partial 1/y of the rule, so it declines
    if y.__class__ is not float or not y:
        return None
    yy = y * y
    if not yy:
        return None
    return x / y, 1 / y, -x / yy


def _kernel_sin(x):
    return (math.sin(x), math.cos(x)) if x - x == 0 else None     # not for ±inf or NaN


def _kernel_cos(x):
    return (math.cos(x), -math.sin(x)) if x - x == 0 else None


def _kernel_exp(x):
    try:
        value = math.exp(x)
    except OverflowError:
        return None
    return value, value


def _kernel_log(x):
    return (math.log(x), 1 / x) if x > 0 and x != math.inf else None


def _kernel_sqrt(x):
    if not 0 < x < math.inf:
        return None
    root = math.sqrt(x)
    return root, 1 / (2 * root)


def _kernel_tanh(x):
    value = math.tanh(x)
    return value, 1 - value * value


KERNELS = {
    "+": lambda x, y: (x + y, 1, 1),
    "-": lambda x, y: (x - y, 1, -1),
    "*": lambda x, y: (x * y, y, x),
    "/": _kernel_div,
    "sin": _kernel_sin,
    "cos": _kernel_cos,
    "exp": _kernel_exp,
    "log": _kernel_log,
    "sqrt": _kernel_sqrt,
    "square": lambda x: (x * x, 2 * x),
    "tanh": _kernel_tanh,
}
