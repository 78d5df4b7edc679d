"""Top-level environments and R7RS libraries: `define-library`, `import` and where libraries
are found.

A top-level `Environment` maps identifiers to what they mean: a `Special`, a `Macro`, or a
`Symbol` naming a global variable.  Global variables of all environments live in the one
dictionary the compiled code runs in; a library's own definitions, and a program's, get names
that hold a space (`"[my lib] helper"`), which no program can write, so that two libraries may
each define `helper` and neither can reach or clobber the other's.

The default environment (the REPL, `-e`, a script without `import`) is open: what it does not
bind is the global of that name, every built-in is visible, and a definition replaces the
global — as in any Scheme REPL.  A program that starts with `import`, and every library, is
closed: it sees what it imports and what it defines, nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..lang.datum import Nil, Pair, Symbol
from ..lang.printer import write_string
from .errors import SchemeSyntaxError
from .standard_libraries import STANDARD_LIBRARIES
from .syntax_rules import base_symbol, is_identifier, strip

# R7RS auxiliary syntax: keywords that mean something only inside a form (`cond`'s else).
# They are exported and imported like any binding, and stand for the symbol of their name.
AUXILIARY_SYNTAX = ("else", "=>", "...", "_", "unquote", "unquote-splicing")


# The implementation's own names in the namespace compiled code runs in (its helpers, constants,
# temporaries, Python's `__builtins__`) start with NUL or are dunder names; a user's global that
# would look like one gets this prefix, so that no program can read or replace them.
_ESCAPE = "\1"


def global_key(name: str) -> str:
    """The key of the global a program calls ``name`` (injective: escaped names all start with
    the escape, and so does every name that starts with it)."""
    if name[:1] in ("\0", _ESCAPE) or name.startswith("__"):
        return _ESCAPE + name
    return name


def display_name(global_name: str) -> str:
    """The name a user wrote, for a global's name in a message."""
    if global_name.startswith(_ESCAPE):
        global_name = global_name[1:]
    if global_name.startswith("[") and "] " in global_name:
        global_name = global_name.split("] ", 1)[1]
    if any(ord(character) < 32 for character in global_name):
        return write_string(Symbol(global_name))      # as the program spelled it: |\x0;tick|
    return global_name


class Environment:
    """A top-level environment.  It can stand at the root of a chain of scopes (that of a macro
    defined in a library), so it has the `bindings` and `parent` a scope has."""

    __slots__ = ("bindings", "parent", "owner", "prefix", "imported")

    def __init__(self, prefix: str | None = None):
        self.bindings: dict = {}
        self.parent = None
        self.owner = None
        self.prefix = prefix          # None: the open default environment
        self.imported: dict = {}      # identifier → binding, to refuse a conflicting import

    def scheme_repr(self, write: bool) -> str:
        return "#<environment>" if self.prefix is None else f"#<environment {self.prefix}>"

    @property
    def closed(self) -> bool:
        return self.prefix is not None

    def global_name(self, symbol: Symbol) -> str:
        return global_key(symbol.name) if self.prefix is None else f"{self.prefix} {symbol.name}"

    def lookup(self, symbol: Symbol):
        binding = self.bindings.get(symbol)
        if binding is not None:
            return binding
        name = self.global_name(symbol)
        return symbol if name is symbol.name else Symbol(name)

    def define_variable(self, symbol: Symbol) -> str:
        self.bindings.pop(symbol, None)
        self.imported.pop(symbol, None)
        return self.global_name(symbol)

    def bind_import(self, symbol: Symbol, binding, library: str, span):
        if self.closed:
            earlier = self.imported.get(symbol)
            if earlier is not None and earlier is not binding:
                raise SchemeSyntaxError(f"import: {symbol.name} is imported twice with different "
                                        f"meanings (the second from {library})", span)
        self.imported[symbol] = binding
        self.bindings[symbol] = binding


class Library:
    __slots__ = ("name", "exports", "body", "requires", "state")

    def __init__(self, name: tuple, exports: dict, body=None, requires=()):
        self.name = name
        self.exports = exports        # exported Symbol → binding
        self.body = body              # (compiled top-level function, span), run on first import
        self.requires = list(requires)  # the libraries it imports, run before it
        self.state = "ready" if body is None else "not run"


def is_program_start(datum, env: Environment) -> bool:
    """Whether a file starting with ``datum`` is an R7RS program (or a file of libraries)."""
    if datum.__class__ is not Pair or datum.car.__class__ is not Symbol:
        return False
    binding = env.bindings.get(datum.car)
    return getattr(binding, "name", None) in ("import", "define-library")


def library_text(name: tuple) -> str:
    return "(" + " ".join(str(part) for part in name) + ")"


def library_name(datum, span) -> tuple:
    """A library name: a list of identifiers and exact non-negative integers."""
    parts = []
    node = strip(datum)
    while node.__class__ is Pair:
        part = node.car
        if part.__class__ is Symbol:
            parts.append(part.name)
        elif part.__class__ is int and part >= 0:
            parts.append(part)
        else:
            break
        node = node.cdr
    if node is not Nil or not parts:
        raise SchemeSyntaxError(f"bad library name {write_string(strip(datum))}: expected a list of "
                                "identifiers and exact non-negative integers", span)
    return tuple(parts)


def _items(form, what: str, span) -> list:
    items = []
    node = form
    while node.__class__ is Pair:
        items.append(node.car)
        node = node.cdr
    if node is not Nil:
        raise SchemeSyntaxError(f"{what}: not a proper list", span)
    return items


def _head(form) -> str | None:
    return base_symbol(form.car).name if form.__class__ is Pair and is_identifier(form.car) else None


class Libraries:
    """The libraries one interpreter knows, and how it finds the others on disk."""

    def __init__(self, interp):
        self.interp = interp
        self.known: dict[tuple, Library] = {}
        self.loading: list[tuple] = []        # names whose files are being read, against cycles
        self.search_path: list[Path] = []     # -I directories, then NABLISP_PATH
        for entry in os.environ.get("NABLISP_PATH", "").split(os.pathsep):
            if entry:
                self.search_path.append(Path(entry))

    # -- the built-in libraries ------------------------------------------------------------------

    def install_builtin(self, default: Environment, globals_: dict, names: list[str]):
        """Make the standard libraries and (nablisp) from the default environment as the
        prelude left it.  A standard name nablisp does not have is left out of its library
        (`missing_standard_names` lists them)."""
        def binding_of(name):
            symbol = Symbol(name)
            binding = default.bindings.get(symbol)
            if binding is not None:
                return binding
            if name in globals_ or name in AUXILIARY_SYNTAX:
                return symbol
            return None
        self.missing = []
        for library, text in STANDARD_LIBRARIES.items():
            exports = {}
            for name in text.split():
                binding = binding_of(name)
                if binding is None:
                    self.missing.append((library, name))
                else:
                    exports[Symbol(name)] = binding
            self.known[library] = Library(library, exports)
        everything = {}
        for name in names:
            binding = binding_of(name)
            if binding is not None:
                everything[Symbol(name)] = binding
        for name in AUXILIARY_SYNTAX:
            everything[Symbol(name)] = Symbol(name)
        self.known[("nablisp",)] = Library(("nablisp",), everything)

    # -- finding -------------------------------------------------------------------------------

    def directories(self) -> list[Path]:
        found = list(self.search_path)
        if self.interp.loading:
            found.append(self.interp.loading[0].parent)     # the script's directory
        found.append(Path.cwd())
        return found

    def candidates(self, name: tuple) -> list[Path]:
        relative = Path(*(str(part) for part in name))
        paths = []
        for directory in self.directories():
            for suffix in (".sld", ".scm"):
                paths.append(directory / relative.with_name(relative.name + suffix))
        return paths

    def exists(self, name: tuple) -> bool:
        from .files import is_file
        return name in self.known or any(is_file(path) for path in self.candidates(name))

    def find(self, name: tuple, span) -> Library:
        library = self.known.get(name)
        if library is not None:
            return library
        from .files import is_file
        if name in self.loading:
            raise SchemeSyntaxError(f"import: {library_text(name)} imports itself (through "
                                    f"{', '.join(library_text(n) for n in self.loading)})", span)
        for path in self.candidates(name):
            if is_file(path):
                self.loading.append(name)
                try:
                    self.interp.load_library_file(path, span)
                finally:
                    self.loading.pop()
                library = self.known.get(name)
                if library is None:
                    raise SchemeSyntaxError(f"import: {path} does not define the library "
                                            f"{library_text(name)}", span)
                return library
        looked = ", ".join(str(directory) for directory in dict.fromkeys(self.directories()))
        relative = "/".join(str(part) for part in name) + ".sld"
        raise SchemeSyntaxError(f"import: no library named {library_text(name)} (looked for {relative} "
                                f"in {looked})", span)

    # -- import sets ---------------------------------------------------------------------------

    def resolve_import_set(self, spec, span) -> tuple[dict, Library]:
        """The bindings an import set gives (identifier → binding) and the library it names."""
        head = _head(spec)
        if head in ("only", "except", "prefix", "rename") and spec.cdr.__class__ is Pair \
                and spec.cdr.car.__class__ is Pair:
            items = _items(spec, f"import: ({head} …)", span)
            inner, library = self.resolve_import_set(items[1], span)
            arguments = items[2:]
            where = library_text(library.name)
            if head == "prefix":
                if len(arguments) != 1 or not is_identifier(arguments[0]):
                    raise SchemeSyntaxError("import: expected (prefix import-set identifier)", span)
                prefix = base_symbol(arguments[0]).name
                return {Symbol(prefix + symbol.name): b for symbol, b in inner.items()}, library
            if head in ("only", "except"):
                names = []
                for argument in arguments:
                    if not is_identifier(argument):
                        raise SchemeSyntaxError(f"import: ({head} …) expects identifiers, got "
                                                f"{write_string(strip(argument))}", span)
                    symbol = base_symbol(argument)
                    if symbol not in inner:
                        raise SchemeSyntaxError(f"import: ({head} …): {symbol.name} is not exported "
                                                f"by {where}", span)
                    names.append(symbol)
                if head == "only":
                    return {symbol: inner[symbol] for symbol in names}, library
                return {s: b for s, b in inner.items() if s not in set(names)}, library
            renamed = dict(inner)
            pairs = []
            for argument in arguments:
                parts = _items(argument, "import: (rename …)", span) if argument.__class__ is Pair else []
                if len(parts) != 2 or not all(is_identifier(p) for p in parts):
                    raise SchemeSyntaxError("import: (rename import-set (old new) …) expects pairs of "
                                            "identifiers", span)
                old, new = base_symbol(parts[0]), base_symbol(parts[1])
                if old not in inner:
                    raise SchemeSyntaxError(f"import: (rename …): {old.name} is not exported by {where}", span)
                pairs.append((old, new))
            for old, _ in pairs:
                del renamed[old]
            for old, new in pairs:
                renamed[new] = inner[old]
            return renamed, library
        library = self.find(library_name(spec, span), span)
        return dict(library.exports), library

    def import_into(self, env: Environment, specs: list, span) -> list[Library]:
        """Bind in ``env`` what the import sets give; the libraries whose bodies must run.  All
        or nothing: a set that names no library (an error at that set) binds none of the others."""
        resolved = []
        for spec in specs:
            where = spec.span if spec.__class__ is Pair and spec.span else span
            resolved.append(self.resolve_import_set(spec, where))
        for bindings, library in resolved:
            text = library_text(library.name)
            for symbol, binding in bindings.items():
                env.bind_import(symbol, binding, text, span)
        return [library for _, library in resolved]

    # -- define-library ------------------------------------------------------------------------

    def define_library(self, ex, form, span):
        items = _items(form, "define-library", span)
        if len(items) < 2:
            raise SchemeSyntaxError("define-library: expected (define-library name declaration …)", span)
        name = library_name(items[1], span)
        text = library_text(name)
        if name in self.known:
            raise SchemeSyntaxError(f"define-library: {text} is already defined", span)
        env = Environment("[" + " ".join(str(part) for part in name).replace(" ", ".") + "]")
        exports: list = []              # (internal Symbol, external Symbol)
        body_forms: list = []           # (datum, span) in order
        to_run: list[Library] = []
        declarations = [(declaration, span) for declaration in items[2:]]
        declarations.reverse()
        while declarations:
            declaration, where = declarations.pop()
            where = declaration.span if declaration.__class__ is Pair and declaration.span else where
            head = _head(declaration)
            if head == "export":
                for spec in _items(declaration.cdr, "export", where):
                    if is_identifier(spec):
                        exports.append((base_symbol(spec), base_symbol(spec)))
                        continue
                    parts = _items(spec, "export", where) if spec.__class__ is Pair else []
                    if len(parts) == 3 and _head(spec) == "rename" and is_identifier(parts[1]) \
                            and is_identifier(parts[2]):
                        exports.append((base_symbol(parts[1]), base_symbol(parts[2])))
                        continue
                    raise SchemeSyntaxError(f"export: expected an identifier or (rename internal "
                                            f"external), got {write_string(strip(spec))}", where)
            elif head == "import":
                to_run += self.import_into(env, _items(declaration.cdr, "import", where), where)
            elif head == "begin":
                body_forms += [(f, f.span if f.__class__ is Pair and f.span else where)
                               for f in _items(declaration.cdr, "begin", where)]
            elif head in ("include", "include-ci", "include-library-declarations"):
                from .derived import included_data
                data = included_data(declaration, where, head == "include-ci", self.directories())
                if head == "include-library-declarations":
                    declarations.extend(reversed(data))
                else:
                    body_forms += data
            elif head == "cond-expand":
                from .derived import chosen_clause
                declarations.extend(reversed([(d, where) for d in chosen_clause(ex, declaration, where)]))
            else:
                raise SchemeSyntaxError(f"define-library {text}: unknown declaration "
                                        f"{write_string(strip(declaration))} (expected export, import, "
                                        "begin, include, include-ci, include-library-declarations or "
                                        "cond-expand)", where)
        nodes = ex.expand_in(env, body_forms)
        body = self.interp.compiler.compile_forms(nodes, self.interp.globals) if nodes else []
        table = {}
        for internal, external in exports:
            if external in table:
                raise SchemeSyntaxError(f"define-library {text}: {external.name} is exported twice", span)
            table[external] = env.lookup(internal)
        library = Library(name, table, list(zip(body, (s for _, s in body_forms))), to_run)
        self.known[name] = library
        return library

    def instantiate(self, libraries: list[Library]):
        """Run the bodies of libraries not yet run, each once and after those it imports."""
        for library in libraries:
            if library.state != "not run":
                continue
            library.state = "running"       # an import cycle was refused when it was expanded
            try:
                self.instantiate(library.requires)
                for function, span in library.body:
                    self.interp.run(function, span)
            except BaseException:
                library.state = "not run"
                raise
            library.state = "ready"
