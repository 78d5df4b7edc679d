"""Documentation as data: what each name of the language takes and does, for `,doc`, `,apropos`,
completion in the REPL and the reference page stdlib/REFERENCE.md.

Every name documents itself where it is defined:
- a primitive written in Python: the signature and paragraph given to `define` or `document`
  (primitives/registry.py);
- a special form: those given to `special` (expand.py, derived.py);
- a procedure written in nablisp — the prelude's, a user's: its docstring, `(define (f x) "One
  paragraph." body …)`, as in Guile and Emacs Lisp, and its parameters as its signature (a
  docstring may open with a line `(f x [step])` that states the signature better);
- a Python procedure (the derivative operators, one given by embedding): a docstring whose first
  line is its signature `(name …)`, then a blank line and the paragraph.

A signature is one or more forms: `(atan y [x])`, where `[…]` is optional and `x …` is any
number of x.  The tests check each against the arity of what it documents.

`python -m nablisp.interpreter.documentation > stdlib/REFERENCE.md` writes the reference page.
"""

from __future__ import annotations

import re
import textwrap

from ..lang.printer import write_string
from .compile import GENERATED_FILE
from .expand import SPECIAL_FORM_DOCS, Special
from .primitives.registry import ALIASES, BUILTINS, DOCUMENTATION
from .runtime import Parameter

_PARAMETER_SUFFIX = re.compile(r" \d+$")     # compiled parameters are named "x 12"


class Documentation:
    """What `,doc` says about one name."""

    __slots__ = ("name", "kind", "signature", "text", "origin", "alias_of", "arity")

    def __init__(self, name, kind, signature=None, text=None, origin="", alias_of=None, arity=None):
        self.name = name
        self.kind = kind              # "procedure", "special form", "macro", "variable", "parameter"
        self.signature = signature    # "(f x [y])", or None
        self.text = text              # the paragraph, or None: undocumented
        self.origin = origin          # "built in", "from the prelude", "defined at <repl 2>:1:1", …
        self.alias_of = alias_of      # the name it is documented under, for another name
        self.arity = arity            # (least, most or None), or None when unknown

    @property
    def summary(self) -> str:
        """The first sentence of the paragraph."""
        if not self.text:
            return ""
        match = re.match(r"(.+?\.)(\s|$)", self.text)     # "?" ends names (eqv?), not sentences
        return match.group(1) if match else self.text


# ---------------------------------------------------------------------------------------------
# Signatures

def signature_forms(signature: str) -> list[str]:
    """The forms of a signature: "(atan y) (atan y x)" → ["(atan y)", "(atan y x)"]."""
    forms, depth, start = [], 0, None
    for index, char in enumerate(signature):
        if char == "(":
            if depth == 0:
                start = index
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0 and start is not None:
                forms.append(signature[start:index + 1])
    return forms


def signature_arity(signature: str):
    """(least, most) arguments the signature admits, most None for any number."""
    least_all, most_all = None, 0
    for form in signature_forms(signature):
        tokens = form[1:-1].replace("[", " [ ").replace("]", " ] ").split()[1:]
        least, most, depth = 0, 0, 0
        for index, token in enumerate(tokens):
            if token == "[":
                depth += 1
            elif token == "]":
                depth -= 1
            elif token in ("…", "...", "."):
                most = None
            elif index + 1 < len(tokens) and tokens[index + 1] in ("…", "..."):
                pass                         # x …: any number of x, none included
            elif tokens[index - 1:index] == ["."]:
                pass                         # the rest parameter
            else:
                if depth == 0:
                    least += 1
                if most is not None:
                    most += 1
        least_all = least if least_all is None else min(least_all, least)
        most_all = None if most is None or most_all is None else max(most_all, most)
    return (least_all or 0), most_all


def arity_text(arity) -> str:
    least, most = arity
    if most is None:
        return f"{least} or more arguments"
    if most != least:
        return f"{least} to {most} arguments"
    return f"{least} argument{'s' if least != 1 else ''}"


def _code_of(procedure):
    procedure = getattr(procedure, "scheme_wrapped", procedure)
    return getattr(procedure, "__code__", None)


def code_arity(procedure):
    """(least, most) from a Python function's parameters, or None."""
    code = _code_of(procedure)
    if code is None:
        return None
    defaults = getattr(getattr(procedure, "scheme_wrapped", procedure), "__defaults__", None) or ()
    return code.co_argcount - len(defaults), None if code.co_flags & 0x04 else code.co_argcount


def is_compiled(procedure) -> bool:
    """Whether ``procedure`` was written in nablisp (its code is generated from Scheme)."""
    code = _code_of(procedure)
    return code is not None and code.co_filename == GENERATED_FILE


def scheme_signature(name: str, procedure) -> str:
    """`(name a b . rest)` from a compiled procedure's parameters."""
    code = _code_of(procedure)
    names = [_PARAMETER_SUFFIX.sub("", n) for n in code.co_varnames[:code.co_argcount]]
    if code.co_flags & 0x04:
        names += [".", _PARAMETER_SUFFIX.sub("", code.co_varnames[code.co_argcount])]
    return "(" + " ".join([name] + names) + ")"


def split_docstring(names, docstring: str):
    """(signature or None, paragraph) of a docstring: a first line `(name …)`, for one of
    ``names``, states the signature."""
    text = docstring.strip()
    first, _, rest = text.partition("\n")
    first = first.strip()
    heads = "|".join(re.escape(name) for name in names)
    if first.startswith("(") and signature_forms(first) and \
            all(re.match(r"\((?:" + heads + r")[\s)]", form) for form in signature_forms(first)):
        return first, " ".join(rest.split())
    return None, " ".join(text.split())


def renamed(signature: str, name: str) -> str:
    """``signature`` with ``name`` at the head of every form (for another name of a procedure)."""
    return " ".join(re.sub(r"^\(\S+?(?=[\s)])", lambda _: "(" + name, form) for form in signature_forms(signature))


def procedure_documentation(procedure):
    """The documentation string of a procedure (Guile's `procedure-documentation`), or None."""
    docstring = getattr(procedure, "__doc__", None)
    if is_compiled(procedure):
        return docstring
    name = getattr(procedure, "__name__", None)
    module = getattr(getattr(procedure, "__wrapped__", procedure), "__module__", None) or ""
    if module.startswith(_PRIMITIVES) and name in DOCUMENTATION:
        return DOCUMENTATION[name][1]
    if not docstring:
        return None
    signature, text = split_docstring([name], docstring)
    if signature is None and module.startswith(_OURS):
        return None         # a docstring for nablisp's developers
    return text


_PRIMITIVES = __name__.rpartition(".")[0] + ".primitives"
_OURS = __name__.partition(".")[0] + "."


# ---------------------------------------------------------------------------------------------
# Looking a name up

def documentation(interp, name: str) -> Documentation | None:
    """What ``name`` means in the REPL's environment, or None when it is unbound."""
    syntax = interp.top_level_syntax(name)
    if syntax is not None:
        if syntax.__class__ is Special:
            signature, text = SPECIAL_FORM_DOCS.get(syntax.name, (None, None))
            return Documentation(name, "special form", signature, text, "built in")
        return Documentation(name, "macro", None, None,
                             "from the prelude" if name in interp.prelude_names else _defined_at(syntax.span))
    key = interp.top_level_key(name) if " " not in name else None     # a program's name, or its import
    if key is None or key not in interp.globals:
        return None
    value = interp.globals[key]
    user = key in interp.user_defined or key not in interp.prelude_names
    documented = ALIASES.get(name, name)
    # a primitive, a session primitive or a port parameter, still bound to what it was at start
    if not user and documented in DOCUMENTATION and BUILTINS.get(key, value) is value:
        signature, text = DOCUMENTATION[documented]
        kind = "parameter" if value.__class__ is Parameter else "procedure"
        return Documentation(name, kind, renamed(signature, name), text, "built in",
                             documented if documented != name else None, signature_arity(signature))
    if is_compiled(value):
        docstring = getattr(value, "__doc__", None)
        signature, text = split_docstring([name], docstring) if docstring else (None, None)
        signature = signature or scheme_signature(name, value)
        origin = "from the prelude" if not user else _where(interp, value)
        return Documentation(name, "procedure", signature, text, origin, None, signature_arity(signature))
    if callable(value) and value.__class__ is not Parameter:
        own = getattr(value, "__name__", name)
        docstring = getattr(value, "__doc__", None)
        signature, text = split_docstring([name, own], docstring) if docstring else (None, None)
        origin = "built in" if not user else "defined by you"
        if signature is None:
            # A built-in's Python docstring is written for its developers, not for nablisp's users;
            # one a user gave (Interpreter.define) is for them.  A wrapper's *args tells no arity.
            return Documentation(name, "procedure", None, text if user else None, origin)
        alias_of = own if own != name and interp.globals.get(own) is value else None
        return Documentation(name, "procedure", renamed(signature, name), text, origin, alias_of,
                             signature_arity(signature))
    kind = "parameter" if value.__class__ is Parameter else "variable"
    return Documentation(name, kind, None, None, "built in" if not user else "")


def _where(interp, value) -> str:
    """Where a compiled procedure was defined: its code's first line indexes the span table."""
    code = _code_of(value)
    line = code.co_firstlineno if code is not None else 0
    return _defined_at(interp.spans[line] if 0 < line < len(interp.spans) else None)


def _defined_at(span) -> str:
    return "defined by you" if span is None else f"defined at {span.file}:{span.line}:{span.column}"


# ---------------------------------------------------------------------------------------------
# What the REPL shows

def describe(interp, name: str, width: int = 78) -> str:
    """The text of `,doc NAME`."""
    entry = documentation(interp, name)
    if entry is None:
        return f"{name} is not bound"
    head = f"{name} is a {entry.kind}"
    if entry.kind == "procedure" and entry.arity is not None:
        head += f" of {arity_text(entry.arity)}"
    value = interp.globals.get(interp.top_level_key(name)) if entry.kind != "special form" else None
    if entry.kind == "variable":
        head += f": {_short(write_string(value))}"
    head += f", {entry.origin}" if entry.origin else ""
    if entry.alias_of:
        head += f" (another name for {entry.alias_of})"
    lines = [head if entry.kind == "variable" else head + "."]
    if entry.signature:
        lines += ["  " + form for form in signature_forms(entry.signature)]
    if entry.text:
        lines += textwrap.wrap(entry.text, width, initial_indent="  ", subsequent_indent="  ",
                               break_on_hyphens=False, break_long_words=False)
    elif entry.kind == "procedure" and entry.origin != "from the prelude" and is_compiled(value):
        lines += ["  No documentation: a string first in its body documents it,",
                  '  as in (define (f x) "What f does." body …).']
    return "\n".join(lines)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def apropos(interp, word: str) -> tuple[list[Documentation], list[Documentation]]:
    """The bound names that contain ``word`` (ignoring case), and the others whose
    documentation mentions it (a word that starts with it)."""
    needle = word.lower()
    mention = re.compile(r"(?<![\w-])" + re.escape(needle))
    by_name, by_text = [], []
    for name in interp.bound_names():
        entry = documentation(interp, name)
        if entry is None:
            continue
        if needle in name.lower():
            by_name.append(entry)
        elif entry.text and mention.search(entry.text.lower()):
            by_text.append(entry)
    return by_name, by_text


def apropos_text(interp, word: str) -> str:
    """The text of `,apropos WORD`."""
    if not word:
        return ",apropos needs a word"
    by_name, by_text = apropos(interp, word)
    if not by_name and not by_text:
        return f"no name contains {word!r} and no documentation mentions it"
    width = min(max(len(entry.name) for entry in by_name + by_text), 24)

    def listed(entries):
        return [f"  {entry.name:<{width}}  {_short(entry.summary or entry.kind, 76 - width)}" for entry in entries]
    lines = listed(by_name)
    if by_text:
        lines.append("mentioned in the documentation of:" if by_name
                     else f"{word!r} is mentioned in the documentation of:")
        lines += listed(by_text)
    return "\n".join(lines)


def completion_meta(interp, name: str) -> str:
    """What the completion menu shows beside ``name``: its signature, or what it is."""
    entry = documentation(interp, name)
    if entry is None:
        return ""
    if not entry.signature:
        return entry.kind
    forms = signature_forms(entry.signature)
    return forms[0] + (" …" if len(forms) > 1 else "")


# ---------------------------------------------------------------------------------------------
# The reference page

SECTIONS = (
    ("Special forms", lambda entry, module: entry.kind in ("special form", "macro")),
    ("Derivatives", lambda entry, module: module == "ad.operators"),
    ("Numbers", lambda entry, module: module == "primitives.numbers"),
    ("Equivalence", lambda entry, module: module == "primitives.equivalence"),
    ("Pairs and lists", lambda entry, module: module == "primitives.lists"),
    ("Characters, strings and symbols", lambda entry, module: module == "primitives.text"),
    ("Vectors", lambda entry, module: module == "primitives.vectors"),
    ("Bytevectors", lambda entry, module: module == "primitives.bytevectors"),
    ("Control", lambda entry, module: module == "primitives.control"),
    ("Ports, input and output", lambda entry, module: module in ("primitives.ports", "primitives.file_ports",
                                                                  "primitives.binary_ports")),
    ("The session: evaluation, exceptions, the system", lambda entry, module: module == "primitives.session"),
    ("The prelude (written in nablisp)", lambda entry, module: entry.origin == "from the prelude"),
)


def _module_of(interp, name: str) -> str:
    value = interp.globals.get(name)
    module = getattr(getattr(value, "scheme_wrapped", value), "__module__", "") or ""
    if value.__class__ is Parameter:
        module = "primitives.ports"
    return module.replace("nablisp.interpreter.", "").replace("nablisp.", "")


def sections(interp) -> list[tuple[str, list[Documentation]]]:
    """The entries of every bound name, by section, each section sorted by name."""
    grouped = {title: [] for title, _ in SECTIONS}
    grouped["Other"] = []
    for name in interp.bound_names():
        entry = documentation(interp, name)
        module = _module_of(interp, name)
        for title, belongs in SECTIONS:
            if belongs(entry, module):
                grouped[title].append(entry)
                break
        else:
            grouped["Other"].append(entry)
    return [(title, entries) for title, entries in grouped.items() if entries]


def undocumented(interp) -> list[str]:
    """The bound names with no paragraph of documentation, or (for a procedure) no signature."""
    missing = []
    for name in interp.bound_names():
        entry = documentation(interp, name)
        if entry is None or not entry.text or (entry.kind in ("procedure", "special form") and not entry.signature):
            missing.append(name)
    return missing


def _anchor(name: str) -> str:
    return "doc-" + "".join(c if c.isalnum() or c == "-" else f"_{ord(c):x}" for c in name)


def _markdown_text(text: str) -> str:
    """``text`` with what Markdown would read as markup (`*` of matrix*vector, `_`, `<`) escaped."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def _section_anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def reference_page(interp) -> str:
    """stdlib/REFERENCE.md: every name of the default environment, its signature and paragraph."""
    out = ["# nablisp reference",
           "",
           "Every name the REPL and a script without `import` see: what it takes and what it does.",
           "Generated from the documentation in the code (`,doc NAME` in the REPL shows the same",
           "text); do not edit it by hand, regenerate it:",
           "",
           "    python -m nablisp.interpreter.documentation > stdlib/REFERENCE.md",
           "",
           "In a signature `[x]` is optional and `x …` is any number of x.",
           ""]
    groups = sections(interp)
    out += [f"- [{title}](#{_section_anchor(title)}) ({len(entries)})" for title, entries in groups]
    for title, entries in groups:
        out += ["", f"## {title}"]
        for entry in entries:
            forms = signature_forms(entry.signature) if entry.signature else []
            kind = "" if entry.kind == "procedure" else f" — {entry.kind}"
            text = _markdown_text(entry.text or "(undocumented)")
            if entry.alias_of:
                text = f"Another name for [`{entry.alias_of}`](#{_anchor(entry.alias_of)})."
            out += ["", f'<a id="{_anchor(entry.name)}"></a>',
                    f"#### `{entry.name}`{kind}", ""]
            if forms:
                out += ["`" + "` `".join(forms) + "`", ""]
            out.append(text)
    return "\n".join(out).rstrip() + "\n"


def main():
    import sys

    from .interpreter import Interpreter
    sys.stdout.write(reference_page(Interpreter()))


if __name__ == "__main__":
    main()
