"""The derivative rules: one entry per differentiable primitive, each partial written with the
generic operations (G), so that a rule can itself be differentiated — or a constant, when the
partial is one (the 1s of +), which saves a call on the hottest path.

A partial that is undefined at the point raises DifferentiationError naming the primitive and
the point; README.md lists these conventions.
"""

from __future__ import annotations

from .lift import G
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
