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

from .tags import Dual, Tracked, top_tag


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
    return Dual(tag, 0, 1)


def make_dual(tag, primal, tangent):
    if is_zero(tangent) and tangent.__class__ is int:
        return primal
    return Dual(tag, primal, tangent)


def lift(function, partials, args):
    """Apply the primitive ``function`` (generic) to ``args``, at least one of them tagged;
    ``partials[i]`` is ∂f/∂(argument i): a function of the primals, or a constant (an int)."""
    count = len(args)
    if count == 2:
        return lift2(function, partials, args[0], args[1])
    if count == 1:
        return lift1(function, partials, args[0])
    tag = top_tag(args)
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
            term = G.mul(_partial(partials[index], primals), direction)
            tangent = term if tangent is None else G.add(tangent, term)
        return result if tangent is None else make_dual(tag, result, tangent)
    entry = []
    for index in perturbed:
        entry.append(args[index].node)
        entry.append(_partial(partials[index], primals))
    entries = tape.entries
    entries.append(tuple(entry))
    if tape.notes is not None:
        tape.note(function, result, [args[i].node if i in perturbed else ("constant", primals[i])
                                     for i in range(count)])
    return Tracked(tag, result, len(entries) - 1)


def _partial(partial, primals):
    return partial if partial.__class__ is int else partial(*primals)


def lift1(function, partials, a):
    """`lift` for one argument (which is tagged)."""
    tag = a.tag
    x = a.primal
    result = function(x)
    tape = tag.tape
    if tape is not None:
        entries = tape.entries
        p = partials[0]
        entries.append((a.node, p if p.__class__ is int else p(x)))
        if tape.notes is not None:
            tape.note(function, result, [a.node])
        return Tracked(tag, result, len(entries) - 1)
    direction = a.tangent
    if is_zero(direction):
        return result
    p = partials[0]
    return make_dual(tag, result, G.mul(p if p.__class__ is int else p(x), direction))


def lift2(function, partials, a, b):
    """`lift` for two arguments, the case of every arithmetic operation, without the loops."""
    a_tag = a.tag if a.__class__ is Dual or a.__class__ is Tracked else None
    b_tag = b.tag if b.__class__ is Dual or b.__class__ is Tracked else None
    if b_tag is None or (a_tag is not None and a_tag.level >= b_tag.level):
        tag = a_tag
    else:
        tag = b_tag
    on_a, on_b = a_tag is tag, b_tag is tag
    x = a.primal if on_a else a
    y = b.primal if on_b else b
    result = function(x, y)
    tape = tag.tape
    if tape is not None:
        entries = tape.entries
        pa, pb = partials
        if on_a and on_b:
            entries.append((a.node, pa if pa.__class__ is int else pa(x, y),
                            b.node, pb if pb.__class__ is int else pb(x, y)))
        elif on_a:
            entries.append((a.node, pa if pa.__class__ is int else pa(x, y)))
        else:
            entries.append((b.node, pb if pb.__class__ is int else pb(x, y)))
        if tape.notes is not None:
            tape.note(function, result, [a.node if on_a else ("constant", x), b.node if on_b else ("constant", y)])
        return Tracked(tag, result, len(entries) - 1)
    # forward: the tangent is ∂₁f·a' + ∂₂f·b', skipping directions that are exactly zero;
    # plain numbers (the innermost level of every tower) are multiplied and added directly
    tangent = None
    if on_a:
        direction = a.tangent
        cls = direction.__class__
        if cls is Dual or cls is Tracked or direction != 0:
            partial = partials[0]
            if partial.__class__ is not int:
                partial = partial(x, y)
            if (cls is float or cls is int) and (partial.__class__ is float or partial.__class__ is int):
                tangent = partial * direction
            else:
                tangent = G.mul(partial, direction)
    if on_b:
        direction = b.tangent
        cls = direction.__class__
        if cls is Dual or cls is Tracked or direction != 0:
            partial = partials[1]
            if partial.__class__ is not int:
                partial = partial(x, y)
            if (cls is float or cls is int) and (partial.__class__ is float or partial.__class__ is int):
                term = partial * direction
            else:
                term = G.mul(partial, direction)
            if tangent is None:
                tangent = term
            elif (term.__class__ is float or term.__class__ is int) and \
                    (tangent.__class__ is float or tangent.__class__ is int):
                tangent = tangent + term
            else:
                tangent = G.add(tangent, term)
    if tangent is None or (tangent.__class__ is int and tangent == 0):
        return result
    return Dual(tag, result, tangent)
