"""A fused expression under a derivative of a gradient: forward over reverse, as one unit.

A Hessian (`hessian`, `hessian-vector-product`, or `D` of a `gradient`) runs a gradient whose
inputs are perturbed by an outer forward-mode tag: values on the tape whose primals are duals
of that tag over floats.  The first-order recorder of a fused tree (fusion.py) declines them,
and the tree's operations then go one by one through the generic arithmetic, each making
duals, bundles and a tape entry whose partials are duals.

This recorder makes the same single entry as the first-order one, with each partial now a dual
of the outer tag: the partial ∂v/∂xᵢ, perturbed by Σⱼ ∂²v/∂xᵢ∂xⱼ · ẋⱼ, the tangents ẋⱼ being the
leaves' (floats, or bundles of one Jacobian pass).  The second partials are generated from the
tree by forward mode over its reverse sweep, one direction per leaf, from the second
derivatives of the operations.  The value is the dual v + Σᵢ ∂v/∂xᵢ · ẋᵢ.

The numbers equal those of the separate operations up to rounding (they are summed in another
order), as the first-order recorder's are.  Anything else falls through to the calls, as there.
"""

from __future__ import annotations

from ..ad.tags import Bundle, Dual, Tracked, dual, tracked
from .fusion import FALL_THROUGH, MATH_FUNCTIONS, Tree, operand_source, partial_source, value_source

MAX_LEAVES = 6      # the generated code grows with the square of the leaves

_ONE = "1"


def _times(*factors):
    """The product of source terms, None standing for an exact 0 and "1" for 1."""
    kept = []
    for factor in factors:
        if factor is None:
            return None
        if factor != _ONE:
            kept.append(f"({factor})")
    return " * ".join(kept) if kept else _ONE


def _plus(*terms):
    kept = [term for term in terms if term is not None]
    return " + ".join(f"({term})" for term in kept) if kept else None


# The derivative of each unary operation's partial (fusion.partial_source), in x (argument)
# and v (value): its second derivative
_CURVATURE = {
    "square": "2",
    "sin": "-sin({x})",
    "cos": "-cos({x})",
    "tan": "2 * {v} * (1 + {v} * {v})",
    "exp": "{v}",
    "log": "-1 / ({x} * {x})",
    "sqrt": "-1 / (4 * {v} * {v} * {v})",
    "tanh": "-2 * {v} * (1 - {v} * {v})",
}


def _local_rules(name, args, value, tangents):
    """Per operand position: (partial, tangent of the partial in the direction whose operand
    tangents are ``tangents``) as source, None for an exact 0."""
    partials = [partial_source(name, position, args, value) for position in range(len(args))]
    if name in ("+", "-", "negate"):
        return [(partial, None) for partial in partials]
    if name == "*":
        ta, tb = tangents
        return list(zip(partials, (tb, ta)))
    if name == "/":
        a, b = args
        ta, tb = tangents
        return list(zip(partials, (_times("-1", tb, f"1 / ({b} * {b})"),
                                   _plus(_times("-1", ta, f"1 / ({b} * {b})"),
                                         _times(tb, f"2 * {a} / ({b} * {b} * {b})")))))
    curvature = _CURVATURE[name].format(x=args[0], v=value)
    return [(partials[0], _times(curvature, tangents[0]))]


def recorder_source(tree: Tree) -> tuple[str, dict]:
    """Python source of ``record2(x0, x1, …)`` for ``tree``: see the module's docstring."""
    namespace = dict(MATH_FUNCTIONS, Tracked=Tracked, Dual=Dual, FALL_THROUGH=FALL_THROUGH,
                     dual=dual, tracked=tracked, combine=combine)
    constants: dict = {}
    count = len(tree.leaves)
    operations = tree.operations

    def operand(reference):
        return operand_source(reference, constants, namespace)

    lines = [f"def record2({', '.join(f'x{i}' for i in range(count))}):",
             "    tag = outer = None"]
    for i in range(count):
        lines += [f"    c = x{i}.__class__",
                  "    if c is Tracked:",
                  "        if tag is None:",
                  f"            tag = x{i}.tag",
                  f"        elif x{i}.tag is not tag:",
                  "            return FALL_THROUGH",
                  f"        q = x{i}.primal",
                  f"        t{i} = True",
                  "    else:",
                  f"        q = x{i}",
                  f"        t{i} = False",
                  "    c = q.__class__",
                  "    if c is Dual:",
                  "        if outer is None:",
                  "            outer = q.tag",
                  "        elif q.tag is not outer:",
                  "            return FALL_THROUGH",
                  f"        p{i} = q.primal",
                  f"        e{i} = q.tangent",
                  f"        if p{i}.__class__ is not float:",
                  "            return FALL_THROUGH",
                  "    elif c is float" + (" or c is int" if tree.exact_safe else "") + ":",
                  f"        p{i} = q",
                  f"        e{i} = None",
                  "    else:",
                  "        return FALL_THROUGH"]
    lines += ["    if tag is None or outer is None or tag.level < outer.level:",
              "        return FALL_THROUGH",
              "    entries = tag.inline_entries",
              "    if entries is None:",
              "        return FALL_THROUGH",
              "    try:"]
    temporaries = []            # every intermediate number, to be checked finite

    def assign(name, source):
        lines.append(f"        {name} = {source}")
        temporaries.append(name)
        return name

    for k, (name, operands) in enumerate(operations):
        assign(f"v{k}", value_source(name, [operand(r) for r in operands]))

    # forward tangents per direction j (the tangent of leaf j is 1, of every other leaf 0)
    def tangent_of(reference, j):
        kind, what = reference
        if kind == "leaf":
            return _ONE if what == j else None
        if kind == "const":
            return None
        return tangents[j][what]
    tangents = [[None] * len(operations) for _ in range(count)]
    for j in range(count):
        for k, (name, operands) in enumerate(operations):
            args = [operand(r) for r in operands]
            rules = _local_rules(name, args, f"v{k}", [tangent_of(r, j) for r in operands])
            terms = [_times(partial, tangent_of(r, j)) for (partial, _), r in zip(rules, operands)]
            total = _plus(*terms)
            if total is not None and total != _ONE and not total.replace("_", "").isalnum():
                total = assign(f"w{k}_{j}", total)
            tangents[j][k] = total

    # the reverse sweep, and its tangent in each direction
    root = len(operations) - 1
    adjoint = {root: _ONE}
    adjoint_tangent = {root: [None] * count}
    first = [[] for _ in range(count)]
    second = [[[] for _ in range(count)] for _ in range(count)]
    for k in range(root, -1, -1):
        name, operands = operations[k]
        args = [operand(r) for r in operands]
        for j in range(count):
            rules = _local_rules(name, args, f"v{k}", [tangent_of(r, j) for r in operands])
            for position, reference in enumerate(operands):
                if reference[0] == "const":
                    continue
                partial, partial_tangent = rules[position]
                tangent_term = _plus(_times(adjoint_tangent[k][j], partial), _times(adjoint[k], partial_tangent))
                if reference[0] == "op":
                    adjoint_tangent.setdefault(reference[1], [None] * count)[j] = tangent_term
                elif tangent_term is not None:
                    second[reference[1]][j].append(tangent_term)
        for position, reference in enumerate(operands):
            if reference[0] == "const":
                continue
            term = _times(adjoint[k], partial_source(name, position, args, f"v{k}"))
            if reference[0] == "op":
                if term != _ONE and not term.replace("_", "").isalnum():
                    term = assign(f"a{reference[1]}", term)
                adjoint[reference[1]] = term
                for j in range(count):
                    value = adjoint_tangent[reference[1]][j]
                    if value is not None and value != _ONE and not value.replace("_", "").isalnum():
                        adjoint_tangent[reference[1]][j] = assign(f"at{reference[1]}_{j}", value)
            else:
                first[reference[1]].append(term)
    # a derivative that is 0 whatever the point (the curvature of a sum's terms with respect
    # to each other) is no term at all, as in the separate operations: no 0·ẋ in a bundle.
    # Every intermediate value and derivative is checked to be finite: the separate
    # operations carry an overflow into their duals' tangents, where inf·0 makes NaNs that
    # this code would not make
    computed = list(temporaries)
    for i in range(count):
        lines.append(f"        d{i} = {_plus(*first[i]) or '0'}")
        computed.append(f"d{i}")
        for j in range(count):
            if second[i][j]:
                lines.append(f"        h{i}_{j} = {_plus(*second[i][j])}")
                computed.append(f"h{i}_{j}")
    lines += ["    except (ArithmeticError, ValueError):",
              "        return FALL_THROUGH"]
    # not finite: the separate operations would give infinities and NaNs of their own
    lines += [f"    if ({' + '.join(computed)}) * 0:",
              "        return FALL_THROUGH",
              f"    tangent = combine(({''.join(f'(d{i}, e{i}), ' for i in range(count) if first[i])}))",
              "    if tangent is FALL_THROUGH or tangent is None:",
              "        return FALL_THROUGH",
              f"    value = dual(outer, v{root}, tangent)",
              "    entry = []"]
    for i in range(count):
        terms = "".join(f"(h{i}_{j}, e{j}), " for j in range(count) if second[i][j])
        lines += [f"    if t{i}:",
                  f"        curvature = combine(({terms}))",
                  "        if curvature is FALL_THROUGH:",
                  "            return FALL_THROUGH",
                  f"        entry += (x{i}.node, d{i} if curvature is None else dual(outer, d{i}, curvature))"]
    lines += ["    tag.tape.plain = False",
              "    entries.append(tuple(entry))",
              "    return tracked(tag, value, len(entries) - 1)"]
    return "\n".join(lines) + "\n", namespace


def combine(terms):
    """Σ coefficient · tangent over the (coefficient, tangent) pairs whose tangent is not None:
    floats (or exact integers), or bundles of plain numbers; None when there is none;
    FALL_THROUGH for a mixture or a perturbed coefficient (the calls decide)."""
    total = None
    for coefficient, tangent in terms:
        if tangent is None:
            continue
        cls = tangent.__class__
        if cls is Bundle:
            if total is None:
                total = {}
            elif total.__class__ is not dict:
                return FALL_THROUGH
            for index, c in tangent.coefficients.items():
                if c.__class__ is not float and c.__class__ is not int:
                    return FALL_THROUGH
                previous = total.get(index)
                total[index] = coefficient * c if previous is None else previous + coefficient * c
        elif cls is float or cls is int:
            if total is None:
                total = coefficient * tangent
            elif total.__class__ is dict:
                return FALL_THROUGH
            else:
                total = total + coefficient * tangent
        else:
            return FALL_THROUGH
    if total.__class__ is dict:
        if sum(total.values()) * 0:         # not finite: the calls give their own infinities
            return FALL_THROUGH
        bundle = Bundle()
        bundle.coefficients = total
        return bundle
    if total is not None and total * 0:
        return FALL_THROUGH
    return total


def make_recorder(tree: Tree):
    """``record2`` for ``tree``, or one that always falls through (too many leaves)."""
    if len(tree.leaves) > MAX_LEAVES or tree.compares:
        return lambda *leaves: FALL_THROUGH
    source, namespace = recorder_source(tree)
    exec(compile(source, "<fused arithmetic, second order>", "exec"), namespace)
    return namespace["record2"]
