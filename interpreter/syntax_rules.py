"""`syntax-rules` macros: pattern matching on forms and template instantiation.

Hygiene by renaming: every identifier a template introduces becomes an `Alias` made fresh for
that expansion.  A binding form that binds an alias binds that alias only, so it never captures
a user's variable of the same name; an alias that is not bound by the expansion means what its
name meant where the macro was defined (see `expand.resolve`).

Identifiers are compared in two ways (R7RS 4.3.2).  Whether a pattern's identifier is one of the
literals is a question of the macro's own text: the same identifier object, so that a literal a
macro-writing macro introduced is not confused with a pattern variable of the user's spelled the
same.  Whether an input identifier matches a literal is a question of meaning: both resolve to
the same binding (or both are unbound with one name), so that a local variable named `else`
is not the `else` of a `cond`-like macro.
"""

from __future__ import annotations

from ..lang.datum import Nil, Pair, Symbol, make_pair
from .errors import SchemeSyntaxError


class Alias:
    """An identifier introduced by a macro expansion."""

    __slots__ = ("symbol", "env")

    def __init__(self, symbol, env):
        self.symbol = symbol   # a Symbol, or an Alias when a macro's template came from a macro
        self.env = env         # the scope the macro was defined in (None: the global scope)

    @property
    def name(self) -> str:
        return base_symbol(self).name

    def __repr__(self) -> str:
        return f"Alias({self.name})"


def is_identifier(value) -> bool:
    return value.__class__ is Symbol or value.__class__ is Alias


def base_symbol(identifier) -> Symbol:
    while identifier.__class__ is Alias:
        identifier = identifier.symbol
    return identifier


def strip(datum):
    """The datum with every alias replaced by its symbol (what `quote` of template data gives).
    Data without aliases come back as the same objects, spans and all — found without recursion,
    since a quoted datum from the reader can be nested 100,000 deep."""
    if not _contains_alias(datum):
        return datum
    return _strip(datum)


def _contains_alias(datum) -> bool:
    stack = [datum]
    seen = set()
    while stack:
        item = stack.pop()
        cls = item.__class__
        if cls is Alias:
            return True
        if cls is Pair or cls is list:
            if id(item) in seen:
                continue
            seen.add(id(item))
            if cls is Pair:
                stack.append(item.car)
                stack.append(item.cdr)
            else:
                stack.extend(item)
    return False


def _strip(datum):
    cls = datum.__class__
    if cls is Alias:
        return base_symbol(datum)
    if cls is Pair:
        items, tail = _spine(datum)
        stripped = [_strip(item) for item in items]
        stripped_tail = _strip(tail)
        if stripped_tail is tail and all(a is b for a, b in zip(stripped, items)):
            return datum
        return _rebuild(stripped, stripped_tail)
    if cls is list:
        stripped = [_strip(item) for item in datum]
        return datum if all(a is b for a, b in zip(stripped, datum)) else stripped
    return datum


class EllipsisMatch:
    """What a pattern variable under an ellipsis matched: one binding per repetition."""

    __slots__ = ("items",)

    def __init__(self, items: list):
        self.items = items


class Macro:
    def __init__(self, name: str, ellipsis, literals: list, rules: list, env, span,
                 custom_ellipsis: bool = False):
        self.name = name
        # The default ellipsis is any `...`, however many macros renamed it.  A custom one, like
        # a literal, is the very identifier written: a macro-writing macro can then pass its
        # user's `...` in as a literal beside an ellipsis `...` of its own (Petrofsky's case).
        self.ellipsis_by_name = not custom_ellipsis
        # A literal that is the ellipsis takes priority: then nothing is an ellipsis.
        if any(self._same_as_ellipsis(literal, ellipsis) for literal in literals):
            ellipsis = None
        self.ellipsis = ellipsis
        self.literals = literals
        self.literal_set = frozenset(literals)
        self.rules = rules     # (pattern, template) with the keyword position dropped
        self.env = env
        self.span = span
        for literal in literals:
            if not is_identifier(literal):
                raise SchemeSyntaxError(f"{name}: a syntax-rules literal must be an identifier, got "
                                        f"{_short(strip(literal))}", span)
        for pattern, template in rules:
            self._check_pattern(pattern, _span_of(pattern, span))
            self._check_template(template, _span_of(template, span))

    # -- checks made once, when the macro is defined -------------------------------------------

    def _check_pattern(self, pattern, span):
        """A pattern has at most one ellipsis in each list, after a subpattern, and binds
        each pattern variable once."""
        variables: set = set()
        stack = [pattern]
        while stack:
            item = stack.pop()
            if is_identifier(item):
                if self._is_ellipsis(item):
                    raise SchemeSyntaxError(f"{self.name}: an ellipsis must follow a subpattern in a list", span)
                if item in self.literal_set or base_symbol(item).name == "_":
                    continue
                if item in variables:
                    raise SchemeSyntaxError(f"{self.name}: pattern variable {base_symbol(item).name} "
                                            "appears twice in one pattern", span)
                variables.add(item)
            elif item.__class__ is Pair or item.__class__ is list:
                items, tail = _spine(item) if item.__class__ is Pair else (item, Nil)
                positions = [i for i, p in enumerate(items) if self._is_ellipsis(p)]
                if len(positions) > 1:
                    raise SchemeSyntaxError(f"{self.name}: more than one ellipsis in one list of a pattern", span)
                if positions == [0]:
                    raise SchemeSyntaxError(f"{self.name}: an ellipsis must follow a subpattern in a list", span)
                stack.extend(p for p in items if not self._is_ellipsis(p))
                stack.append(tail)

    def _check_template(self, template, span):
        """An ellipsis in a template follows a subtemplate, and `(... template)` escapes one."""
        stack = [template]
        while stack:
            item = stack.pop()
            if self._is_ellipsis(item):
                raise SchemeSyntaxError(f"{self.name}: an ellipsis must follow a subtemplate in a list", span)
            if item.__class__ is Pair and self._is_ellipsis(item.car):
                if item.cdr.__class__ is not Pair or item.cdr.cdr is not Nil:
                    raise SchemeSyntaxError(f"{self.name}: the escape (... template) takes one template", span)
                continue   # inside it, the ellipsis stands for itself
            if item.__class__ is Pair or item.__class__ is list:
                items, tail = _spine(item) if item.__class__ is Pair else (item, Nil)
                stack.extend(p for p in items if not self._is_ellipsis(p))
                stack.append(tail)

    def transform(self, form: Pair, span, expander, scope):
        """The expansion of ``form``, a use of this macro in ``scope``; ``expander`` resolves
        identifiers, to compare input identifiers with literals by binding."""
        resolve, env = expander.resolve, self.env
        def denotes(identifier, literal) -> bool:
            return resolve(identifier, scope) is resolve(literal, env)
        for pattern, template in self.rules:
            bindings: dict = {}
            if self._match(pattern, form.cdr, bindings, denotes):
                renames: dict = {}
                return self._instantiate(template, bindings, renames, span)
        raise SchemeSyntaxError(f"{self.name}: no syntax-rules pattern matches "
                                f"{_short(strip(form))}", span)

    # -- matching ------------------------------------------------------------------------------

    def _same_as_ellipsis(self, value, ellipsis) -> bool:
        if self.ellipsis_by_name:
            return is_identifier(value) and base_symbol(value) is ellipsis
        return value is ellipsis

    def _is_ellipsis(self, value) -> bool:
        return self.ellipsis is not None and self._same_as_ellipsis(value, self.ellipsis)

    def _match(self, pattern, form, bindings, denotes) -> bool:
        if is_identifier(pattern):
            if pattern in self.literal_set:
                return is_identifier(form) and denotes(form, pattern)
            if base_symbol(pattern).name != "_":
                bindings[pattern] = form
            return True
        if pattern.__class__ is Pair:
            return self._match_sequence(*_spine(pattern), *_spine(form), bindings, denotes)
        if pattern.__class__ is list:
            if form.__class__ is not list:
                return False
            return self._match_sequence(pattern, Nil, form, Nil, bindings, denotes)
        if pattern is Nil:
            return form is Nil
        return _equal_datum(pattern, form)

    def _match_sequence(self, patterns, pattern_tail, items, form_tail, bindings, denotes) -> bool:
        ellipsis_at = next((i for i, p in enumerate(patterns) if self._is_ellipsis(p)), None)
        if ellipsis_at is None:
            if len(items) < len(patterns):
                return False
            for pattern, item in zip(patterns, items):
                if not self._match(pattern, item, bindings, denotes):
                    return False
            rest = _rebuild(items[len(patterns):], form_tail)
            return self._match(pattern_tail, rest, bindings, denotes) if pattern_tail is not Nil else rest is Nil
        before = patterns[:ellipsis_at - 1]
        repeated = patterns[ellipsis_at - 1]
        after = patterns[ellipsis_at + 1:]
        count = len(items) - len(before) - len(after)
        if count < 0:
            return False
        for pattern, item in zip(before, items):
            if not self._match(pattern, item, bindings, denotes):
                return False
        matches = []
        for item in items[len(before):len(before) + count]:
            sub: dict = {}
            if not self._match(repeated, item, sub, denotes):
                return False
            matches.append(sub)
        for variable in self._pattern_variables(repeated):
            bindings[variable] = EllipsisMatch([m[variable] for m in matches])
        for pattern, item in zip(after, items[len(before) + count:]):
            if not self._match(pattern, item, bindings, denotes):
                return False
        if pattern_tail is Nil:
            return form_tail is Nil
        return self._match(pattern_tail, form_tail, bindings, denotes)

    def _pattern_variables(self, pattern) -> list:
        found, stack = [], [pattern]
        while stack:
            item = stack.pop()
            if is_identifier(item):
                if not self._is_ellipsis(item) and base_symbol(item).name != "_" and \
                        item not in self.literal_set:
                    found.append(item)
            elif item.__class__ is Pair:
                stack.append(item.car)
                stack.append(item.cdr)
            elif item.__class__ is list:
                stack.extend(item)
        return found

    # -- instantiation -------------------------------------------------------------------------

    def _instantiate(self, template, bindings, renames, span):
        if is_identifier(template):
            if template in bindings:
                value = bindings[template]
                if value.__class__ is EllipsisMatch:
                    raise SchemeSyntaxError(f"{self.name}: pattern variable {base_symbol(template).name} "
                                            "used without an ellipsis", span)
                return value
            alias = renames.get(template)
            if alias is None:
                alias = renames[template] = Alias(template, self.env)
            return alias
        if template.__class__ is Pair:
            if self._is_ellipsis(template.car) and template.cdr.__class__ is Pair:
                # (... template): the ellipsis stands for itself inside
                saved, self.ellipsis = self.ellipsis, None
                try:
                    return self._instantiate(template.cdr.car, bindings, renames, span)
                finally:
                    self.ellipsis = saved
            elements, tail = _spine(template)
            out = self._instantiate_elements(elements, bindings, renames, span)
            result = self._instantiate(tail, bindings, renames, span) if tail is not Nil else Nil
            for item in reversed(out):
                result = make_pair(item, result, span)
            return result
        if template.__class__ is list:
            return self._instantiate_elements(template, bindings, renames, span)
        return template

    def _instantiate_elements(self, elements, bindings, renames, span) -> list:
        out = []
        i = 0
        while i < len(elements):
            element = elements[i]
            depth = 0
            while i + 1 + depth < len(elements) and self._is_ellipsis(elements[i + 1 + depth]):
                depth += 1
            if depth == 0:
                out.append(self._instantiate(element, bindings, renames, span))
            else:
                expansions = [bindings]
                for _ in range(depth):
                    expansions = [b for env in expansions for b in self._repetitions(element, env, span)]
                out.extend(self._instantiate(element, env, renames, span) for env in expansions)
            i += 1 + depth
        return out

    def _repetitions(self, template, bindings, span) -> list:
        variables = [v for v in self._pattern_variables(template)
                     if v in bindings and bindings[v].__class__ is EllipsisMatch]
        if not variables:
            raise SchemeSyntaxError(f"{self.name}: no pattern variable with an ellipsis in "
                                    f"template {_short(strip(template))}", span)
        lengths = {len(bindings[v].items) for v in variables}
        if len(lengths) > 1:
            raise SchemeSyntaxError(f"{self.name}: pattern variables under one ellipsis matched "
                                    "sequences of different lengths", span)
        count = lengths.pop()
        result = []
        for index in range(count):
            env = dict(bindings)
            for v in variables:
                env[v] = bindings[v].items[index]
            result.append(env)
        return result


def _span_of(datum, fallback):
    span = datum.span if datum.__class__ is Pair else None
    return span if span is not None else fallback


def _spine(value):
    items = []
    while value.__class__ is Pair:
        items.append(value.car)
        value = value.cdr
    return items, value


def _rebuild(items, tail):
    for item in reversed(items):
        tail = make_pair(item, tail)
    return tail


def _equal_datum(a, b) -> bool:
    if a.__class__ is not b.__class__:
        return False
    return a == b


def _short(datum) -> str:
    from ..lang.printer import write_string
    text = write_string(datum)
    return text if len(text) <= 60 else text[:57] + "..."
