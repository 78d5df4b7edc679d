"""The one lifting dispatcher: a primitive applied to tagged values.

For f(a, b) with the highest tag ε among its arguments (lower tags are constants here):

    forward:  f(a₀ + a'ε, b₀ + b'ε) = f(a₀, b₀) + (∂₁f(a₀, b₀)·a' + ∂₂f(a₀, b₀)·b')·ε
    reverse:  record the entry  [f(a₀, b₀); (a.node, ∂₁f), (b.node, ∂₂f)]  on ε's tape

The value f(a₀, b₀) and the partials are computed with the *generic* operations, which lift
again when a₀, b₀ carry older tags: that recursion is all that nesting needs.  The partial of an
argument that does not carry ε is never computed, so a constant argument at a singular point
(0 for `log`, negative for `expt`'s exponent rule) costs nothing and raises nothing.
"""

from __future__ import annotations

from fractions import Fraction

from .tags import Bundle, DifferentiationError, Dual, Tracked, bundle, dual, live_value, top_tag, tracked


class Generic:
    """The differentiable arithmetic the rules are written with.  The numeric primitives own the
    plain-number semantics (exactness, error messages) and fill this namespace in."""

    add = sub = mul = div = neg = None
    sin = cos = tan = exp = log = sqrt = expt = atan = None
    sinh = cosh = tanh = square = None


G = Generic()


def is_zero(value) -> bool:
    """An exactly vanishing tangent or cotangent: a plain number equal to 0."""
    cls = value.__class__
    return cls is not Dual and cls is not Tracked and value == 0


def unit(tag):
    """ε_tag itself: 0 + 1·ε."""
    return dual(tag, 0, 1)


def scaled(partial, direction):
    """partial · direction, a term of a tangent: a partial of exactly 1 (a sum's) or a seed
    direction of 1 is no product to lift; a bundle direction is scaled coefficient by coefficient
    (an exact 0 when the partial is an exact 0)."""
    cls = partial.__class__
    if direction.__class__ is not Bundle:
        if cls is int and partial == 1:
            return direction
        if direction.__class__ is int and direction == 1:
            return partial
        return G.mul(partial, direction)
    if cls is int and (partial == 0 or partial == 1):
        return 0 if partial == 0 else direction     # a bundle is a value, never changed: share it
    plain_partial = cls is float or cls is int
    products = {}
    for index, coefficient in direction.coefficients.items():
        if plain_partial and (coefficient.__class__ is float or coefficient.__class__ is int):
            try:
                products[index] = partial * coefficient
            except OverflowError:
                products[index] = G.mul(partial, coefficient)
        else:
            products[index] = G.mul(partial, coefficient)
    return bundle(products)


def summed(tangent, term):
    """tangent + term, either of which may be a bundle (and then the other a bundle or an exact 0)."""
    if tangent.__class__ is not Bundle:
        if term.__class__ is not Bundle:
            return G.add(tangent, term)
        tangent, term = term, tangent
    if term.__class__ is not Bundle:
        return tangent          # an exact 0: a bundle tag's tangents are all bundles
    total = dict(tangent.coefficients)
    for index, coefficient in term.coefficients.items():
        previous = total.get(index)
        if previous is None:
            total[index] = coefficient
        elif previous.__class__ is float and coefficient.__class__ is float:
            total[index] = previous + coefficient
        else:
            total[index] = G.add(previous, coefficient)
    return bundle(total)


def tangent_sum(tangent, term):
    """tangent + term, two terms of a tangent: plain numbers added directly, the rest by summed
    (bundles merged, anything else by the generic +)."""
    if (term.__class__ is float or term.__class__ is int) and \
            (tangent.__class__ is float or tangent.__class__ is int):
        try:
            return tangent + term
        except OverflowError:
            pass            # an exact number beyond the floats' range met a float: G.add takes it
    return summed(tangent, term)


def combined(y, dx, x, dy):
    """y·dx + x·dy for bundles dx and dy (a product's tangent): summed(scaled(y, dx),
    scaled(x, dy)), built in one dict when y and x are floats and every coefficient a plain
    number — a Hessian's inner level, where every product of its pass and of its backward pass
    comes here."""
    if y.__class__ is float and x.__class__ is float and not _has_huge_integer(dx, dy):
        total = {}
        for index, coefficient in dx.coefficients.items():
            cls = coefficient.__class__
            if cls is not float and cls is not int:
                break
            total[index] = y * coefficient
        else:
            for index, coefficient in dy.coefficients.items():
                cls = coefficient.__class__
                if cls is not float and cls is not int:
                    break
                previous = total.get(index)
                total[index] = x * coefficient if previous is None else previous + x * coefficient
            else:
                return bundle(total)
    return summed(scaled(y, dx), scaled(x, dy))


def _has_huge_integer(*bundles) -> bool:
    """Whether a coefficient is an exact integer beyond the floats' range (Python's float
    operators raise on it; the generic operations take it as ±inf.0)."""
    return any(c.__class__ is int and c.bit_length() > 1000
               for b in bundles for c in b.coefficients.values())


class SingularPartial:
    """A partial derivative that does not exist at the point (sqrt at 0), recorded on a tape in
    its place.  Forward mode computes a partial only where a nonzero tangent reaches it; so that
    reverse mode agrees with it wherever it gives a number, the error is raised only where a
    nonzero adjoint reaches the partial and its argument varies with the inputs (the backward
    pass checks, reverse.py); multiplying one of these by anything raises."""

    __slots__ = ("error",)

    def __init__(self, error: Exception):
        self.error = error

    def __mul__(self, other):
        raise self.error

    __rmul__ = __mul__

    def scheme_repr(self, write: bool) -> str:
        return f"undefined ({self.error})"       # as a teaching tape shows it


def deferrable(error: Exception) -> bool:
    """Whether a partial's error can wait for the backward pass: a derivative rule's
    DifferentiationError, or an error of the program itself in a custom rule (define-derivative),
    whose class says so with ``deferrable``.  A bug in nablisp (a TypeError, …) cannot."""
    return isinstance(error, DifferentiationError) or getattr(error, "deferrable", False)


def recorded_partial(partial, *primals):
    """partial(*primals) for a tape entry, or a SingularPartial standing for its error."""
    try:
        return partial(*primals)
    except Exception as error:
        if deferrable(error):
            return SingularPartial(error)
        raise


def make_dual(tag, primal, tangent):
    if is_zero(tangent) and tangent.__class__ is int:
        return primal
    return dual(tag, primal, tangent)


def lift(function, partials, args):
    """Apply the primitive ``function`` (generic) to ``args``, at least one of them tagged;
    ``partials[i]`` is ∂f/∂(argument i): a function of the primals, or a constant (an int)."""
    count = len(args)
    if count == 2:
        return lift2(function, partials, args[0], args[1])
    if count == 1:
        return lift1(function, partials, args[0])
    tag = None
    closed = False
    for value in args:
        if value.__class__ is Dual or value.__class__ is Tracked:
            candidate = value.tag
            if not candidate.live:
                closed = True
            elif tag is None or candidate.level > tag.level:
                tag = candidate
    if closed:
        args = [live_value(a) for a in args]
        tag = top_tag(args)         # what lay under a closed perturbation may be newer
    if tag is None:
        return function(*args)
    primals = []
    perturbed = []
    for index, value in enumerate(args):
        if (value.__class__ is Dual or value.__class__ is Tracked) and value.tag is tag:
            primals.append(value.primal)
            perturbed.append(index)
        else:
            primals.append(value)
    result = function(*primals)
    tape = tag.tape
    if tape is None:
        tangent = None
        for index in perturbed:
            direction = args[index].tangent
            if is_zero(direction):
                continue
            partial = partials[index]
            term = scaled(partial if partial.__class__ is int else partial(*primals), direction)
            tangent = term if tangent is None else tangent_sum(tangent, term)
        return result if tangent is None else make_dual(tag, result, tangent)
    entry = []
    plain = True
    for index in perturbed:
        partial = partials[index]
        if partial.__class__ is not int:
            partial = recorded_partial(partial, *primals)
            plain = plain and (partial.__class__ is float or partial.__class__ is int or partial.__class__ is Fraction)
        entry.append(args[index].node)
        entry.append(partial)
    entries = tape.entries
    entries.append(tuple(entry))
    if not plain:
        tape.plain = False
    if tape.notes is not None:
        tape.note(function, result, [args[i].node if i in perturbed else ("constant", primals[i])
                                     for i in range(count)])
    return tracked(tag, result, len(entries) - 1)


def lift1(function, partials, a, kernel=None, tower=None):
    """`lift` for one argument (which is tagged).  ``kernel(x)``, when given, returns the value
    and the partial together for a float ``x`` (None where it declines: the general path then
    gives the exact behaviour and any error).  ``tower(x)``, when given, returns them together
    for a tagged ``x``, where the rule would compute the function a second time."""
    tag = a.tag
    if not tag.live:
        return function(live_value(a))
    x = a.primal
    if tower is not None and (x.__class__ is Dual or x.__class__ is Tracked):
        return _lift1_tower(function, a, tower)
    out = kernel(x) if kernel is not None and x.__class__ is float else None
    if out is not None and a.__class__ is Tracked and tag.inline_entries is not None:
        entries = tag.inline_entries
        entries.append((a.node, out[1]))
        return tracked(tag, out[0], len(entries) - 1)
    if out is None:
        result = function(x)
        p = partials[0]
        partial = None if p.__class__ is int else p
    else:
        result, p = out
        partial = None
    tape = tag.tape
    if tape is not None:
        entries = tape.entries
        if partial is not None:
            p = recorded_partial(partial, x)
            if p.__class__ is not float and p.__class__ is not int and p.__class__ is not Fraction:
                tape.plain = False
        entries.append((a.node, p))
        if tape.notes is not None:
            tape.note(function, result, [a.node])
        return tracked(tag, result, len(entries) - 1)
    direction = a.tangent
    cls = direction.__class__
    if cls is not Dual and cls is not Tracked and direction == 0:
        return result
    if partial is not None:
        p = partial(x)
    if (cls is float or cls is int) and (p.__class__ is float or p.__class__ is int):
        try:
            tangent = p * direction
        except OverflowError:       # an exact number beyond the floats' range met a float
            tangent = G.mul(p, direction)
    else:
        tangent = scaled(p, direction)
    if tangent.__class__ is int and tangent == 0:
        return result
    return dual(tag, result, tangent)


def _lift1_tower(function, a, tower):
    """lift1 for an argument whose primal is itself tagged (a level of a tower).  Where a
    partial is the function again (exp), or its twin (sin and cos), computing the value and then
    the partial would descend the tower twice at every level: 2ᵏ descents for k levels, where
    ``tower`` descends once."""
    tag = a.tag
    tape = tag.tape
    if tape is None:
        direction = a.tangent
        cls = direction.__class__
        if cls is not Dual and cls is not Tracked and direction == 0:
            return function(a.primal)       # no tangent to form, so no partial to compute
        result, p = tower(a.primal)
    else:
        try:
            result, p = tower(a.primal)
        except Exception as error:
            if not deferrable(error):
                raise
            result, p = function(a.primal), SingularPartial(error)
    if tape is not None:
        if p.__class__ is not float and p.__class__ is not int and p.__class__ is not Fraction:
            tape.plain = False
        entries = tape.entries
        entries.append((a.node, p))
        if tape.notes is not None:
            tape.note(function, result, [a.node])
        return tracked(tag, result, len(entries) - 1)
    return with_tangent(tag, result, p, direction)


def with_tangent(tag, result, partial, direction):
    """result + partial·direction·ε_tag, formed as lift1 and lift2 form it: nothing for a zero
    direction, plain numbers multiplied directly, and the plain result where the tangent comes
    out an exact 0."""
    cls = direction.__class__
    if cls is not Dual and cls is not Tracked and direction == 0:
        return result
    tangent = _tangent_term(partial, direction)
    if tangent.__class__ is int and tangent == 0:
        return result
    return dual(tag, result, tangent)


def _tangent_term(partial, direction):
    """partial · direction as lift1 forms it: plain numbers multiplied directly."""
    cls = direction.__class__
    if (cls is float or cls is int) and (partial.__class__ is float or partial.__class__ is int):
        try:
            return partial * direction
        except OverflowError:       # an exact number beyond the floats' range met a float
            return G.mul(partial, direction)
    return scaled(partial, direction)


def twin_descent(x, base, sign: int):
    """(f(x), g(x)) for twins f' = g, g' = sign·f (sin and cos: −1; sinh and cosh: +1), from
    ``base(y)`` = (f(y), g(y)) at the bottom of the tower of duals ``x`` (a plain number or a
    value on a tape) and one climb back up: at each level, f's tangent is g·direction and g's
    is sign·f·direction, exactly the terms lift1 forms for f and g there, level by level."""
    levels = []
    while x.__class__ is Dual:
        if x.tag.live:
            levels.append(x)
        x = x.primal
    f, g = base(x)
    for level in reversed(levels):
        direction = level.tangent
        cls = direction.__class__
        if cls is not Dual and cls is not Tracked and direction == 0:
            continue                        # lift1 gives the value alone
        f_tangent = _tangent_term(g, direction)
        g_tangent = _tangent_term(G.neg(f) if sign < 0 else f, direction)
        tag = level.tag
        if not (f_tangent.__class__ is int and f_tangent == 0):
            f = dual(tag, f, f_tangent)
        if not (g_tangent.__class__ is int and g_tangent == 0):
            g = dual(tag, g, g_tangent)
    return f, g


def lift2(function, partials, a, b, kernel=None):
    """`lift` for two arguments, the case of every arithmetic operation, without the loops.
    ``kernel(x, y)``, when given, returns the value and both partials in one call for plain
    primals of which one is a float (None where it declines)."""
    ca, cb = a.__class__, b.__class__
    if ca is Dual or ca is Tracked:
        tag = a.tag
        if cb is Dual or cb is Tracked:
            b_tag = b.tag
            if not tag.live or not b_tag.live:
                return function(live_value(a), live_value(b))
            if b_tag is tag:
                on_a = on_b = True
            elif tag.level > b_tag.level:
                on_a, on_b = True, False
            else:
                tag = b_tag
                on_a, on_b = False, True
        else:
            on_a, on_b = True, False
    else:
        tag = b.tag
        on_a, on_b = False, True
    if not tag.live:
        return function(live_value(a), live_value(b))
    x = a.primal if on_a else a
    y = b.primal if on_b else b
    cx, cy = x.__class__, y.__class__
    if kernel is not None and (cx is float or cy is float) and (cx is float or cx is int) \
            and (cy is float or cy is int):
        try:
            out = kernel(x, y)
        except OverflowError:       # an exact operand beyond the floats' range: the rule decides
            out = None
    else:
        out = None
    if out is None:
        result = function(x, y)
        pa, pb = partials
    else:
        result, pa, pb = out
    tape = tag.tape
    if tape is not None:
        if pa.__class__ is not int and on_a and out is None:
            pa = recorded_partial(pa, x, y)
        if pb.__class__ is not int and on_b and out is None:
            pb = recorded_partial(pb, x, y)
        if (on_a and pa.__class__ is not float and pa.__class__ is not int and pa.__class__ is not Fraction) or \
                (on_b and pb.__class__ is not float and pb.__class__ is not int and pb.__class__ is not Fraction):
            tape.plain = False
        entries = tape.entries
        if on_a and on_b:
            entries.append((a.node, pa, b.node, pb))
        elif on_a:
            entries.append((a.node, pa))
        else:
            entries.append((b.node, pb))
        if tape.notes is not None:
            tape.note(function, result, [a.node if on_a else ("constant", x), b.node if on_b else ("constant", y)])
        return tracked(tag, result, len(entries) - 1)
    # forward: the tangent is ∂₁f·a' + ∂₂f·b', skipping directions that are exactly zero;
    # plain numbers (the innermost level of every tower) are multiplied and added directly
    tangent = None
    if on_a:
        direction = a.tangent
        cls = direction.__class__
        if cls is Dual or cls is Tracked or direction != 0:
            if out is None and pa.__class__ is not int:
                pa = pa(x, y)
            if (cls is float or cls is int) and (pa.__class__ is float or pa.__class__ is int):
                try:
                    tangent = pa * direction
                except OverflowError:
                    tangent = G.mul(pa, direction)
            else:
                tangent = scaled(pa, direction)
    if on_b:
        direction = b.tangent
        cls = direction.__class__
        if cls is Dual or cls is Tracked or direction != 0:
            if out is None and pb.__class__ is not int:
                pb = pb(x, y)
            if (cls is float or cls is int) and (pb.__class__ is float or pb.__class__ is int):
                try:
                    term = pb * direction
                except OverflowError:
                    term = G.mul(pb, direction)
            else:
                term = scaled(pb, direction)
            tangent = term if tangent is None else tangent_sum(tangent, term)
    if tangent is None or (tangent.__class__ is int and tangent == 0):
        return result
    return dual(tag, result, tangent)
