"""Plots of functions and their derivatives, drawn by matplotlib (an optional extra) as pictures.

`plot` draws a function of one number with derivatives of the orders asked, each computed by
nablisp's own forward mode at every sample (not by differencing the samples, so a plot is a
picture of what `derivative` returns).  `plot-gradient-field` draws the gradient of a function
of two numbers as arrows over its contour lines, `plot-path` the points an optimizer visited
(`gradient-descent-path`, `newton-minimize-path`) over the contour lines of what it minimizes.

Options follow the required arguments as symbol–value pairs: `(plot sin 0 7 'orders '(0 1)
'labels '("sin" "cos"))`.  A picture is not differentiable: plots look at the numbers under any
perturbation of their arguments, and at the primal of what the function returns.
"""

from __future__ import annotations

import io
import math
from fractions import Fraction

from ...ad.tags import DifferentiationError, is_number, plain
from ...lang.datum import MutableString, Nil, Pair, Symbol, make_list
from ...lang.printer import write_string
from .. import runtime
from ..errors import InternalError, NablispError, fail, procedure_name
from ..pictures import Picture
from .registry import document

MATPLOTLIB_MISSING = ("{who}: plotting needs matplotlib, which is not installed; "
                      "pip install 'nablisp[jupyter]' (or pip install matplotlib) brings it")

# what a sample of a function may fail with and still be a gap in the curve (log below 0, a
# division at a pole); anything else is a real error of the program and is raised
UNDEFINED_AT_POINT = (NablispError, DifferentiationError, ArithmeticError, ValueError)

PRIMES = ["", "′", "″", "‴"]

# in force while a picture is made, and only then (an embedding program's own matplotlib
# settings are left alone): text stays text (searchable, scalable), ids do not change from run
# to run, and every sample is drawn, a picture of what the program computed
STYLE = {"svg.fonttype": "none", "svg.hashsalt": "nablisp", "path.simplify": False}


def _matplotlib(who):
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        fail(MATPLOTLIB_MISSING.format(who=who))
    return matplotlib, Figure


def _svg_of(figure, matplotlib) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


def _options(who, items, known: dict) -> dict:
    options = dict(known)
    items = list(items)
    if len(items) % 2:
        fail(f"{who}: options come in pairs, a symbol and its value: got {write_string(make_list(items))}")
    for k in range(0, len(items), 2):
        key = items[k]
        if key.__class__ is not Symbol or key.name not in known:
            names = " ".join(f"'{name}" for name in known)
            fail(f"{who}: unknown option {write_string(key)}; the options are {names}")
        options[key.name] = items[k + 1]
    return options


def _real(who, what, x) -> float:
    x = plain(x)
    if x.__class__ is bool or x.__class__ not in (int, float, Fraction):
        fail(f"{who}: {what} must be a real number, got {write_string(x)}")
    value = float(x)
    if not math.isfinite(value):
        fail(f"{who}: {what} must be finite, got {write_string(x)}")
    return value


def _count(who, what, x, smallest) -> int:
    x = plain(x)
    if x.__class__ is not int or x < smallest:
        fail(f"{who}: {what} must be an integer of at least {smallest}, got {write_string(x)}")
    return x


def _range(who, what, lo, hi) -> tuple[float, float]:
    lo, hi = _real(who, f"{what}'s start", lo), _real(who, f"{what}'s end", hi)
    if not lo < hi:
        fail(f"{who}: {what} must go from a smaller to a larger number, got {lo:g} to {hi:g}")
    return lo, hi


def _elements(x) -> list | None:
    """The items of a list or vector, None for anything else."""
    if x.__class__ is list:
        return list(x)
    if x is Nil or x.__class__ is Pair:
        items = []
        while x.__class__ is Pair:
            items.append(x.car)
            x = x.cdr
        return items if x is Nil else None
    return None


def _strings(who, what, x) -> list[str]:
    items = _elements(x)
    if items is None or any(i.__class__ not in (str, MutableString) for i in items):
        fail(f"{who}: {what} must be a list of strings, got {write_string(x)}")
    return [str(i) for i in items]


def _name(f) -> str:
    name = procedure_name(getattr(f, "__name__", "lambda"))
    return "f" if name in ("lambda", "") or " " in name else name


def _value_at(who, f, args, where, handlers: list) -> float:
    """f(args) as a float; NaN where f is undefined (a gap in the picture, which the program's
    handlers do not see)."""
    try:
        y = plain(runtime.sheltered(handlers, f, args))
    except InternalError:
        raise
    except UNDEFINED_AT_POINT:
        return math.nan
    if y.__class__ is bool or y.__class__ not in (int, float, Fraction):
        fail(f"{who}: the function returned {write_string(y)} at {where}; expected a real number")
    return float(y)


def _two_number_caller(who, f):
    """How to call f at (x, y): f of two numbers, or f of one point (a list of two numbers), the
    form the optimizers take.  Decided from f's parameters."""
    runtime.check_procedure(who, f)
    takes_point = runtime.arity(f) == (1, 1)
    if takes_point:
        return lambda x, y: (make_list([x, y]),)
    return lambda x, y: (x, y)


def _undefined_note(gaps, total) -> str:
    return f" ({gaps} of {total} points undefined)" if gaps else ""


def plot_primitives(interp) -> dict:
    operators = {}

    def operator(name):
        if not operators:
            operators.update(interp.operators.table())
        return operators[name]

    def plot(f, start, end, *options):
        """f of one number from start to end, with the derivatives of the orders asked."""
        who = "plot"
        runtime.check_procedure(who, f)
        lo, hi = _range(who, "the interval", start, end)
        options = _options(who, options, {"orders": make_list([0, 1, 2]), "labels": None,
                                          "samples": 200, "title": None})
        orders = _elements(options["orders"])
        if not orders or any(plain(k).__class__ is not int or plain(k) < 0 for k in orders):
            fail(f"plot: 'orders must be a non-empty list of derivative orders (0 is f itself), "
                 f"got {write_string(options['orders'])}")
        orders = [plain(k) for k in orders]
        samples = _count(who, "'samples", options["samples"], 2)
        name = _name(f)
        if options["labels"] is None:
            labels = [name + PRIMES[k] if k < len(PRIMES) else f"{name}^({k})" for k in orders]
        else:
            labels = _strings(who, "'labels", options["labels"])
            if len(labels) != len(orders):
                fail(f"plot: {len(labels)} labels for {len(orders)} curves")
        matplotlib, Figure = _matplotlib(who)
        with matplotlib.rc_context(STYLE):
            xs = [lo + (hi - lo) * i / (samples - 1) for i in range(samples)]
            figure = Figure(figsize=(6.4, 4.0))
            axes = figure.add_subplot()
            gaps = 0
            for order, label in zip(orders, labels):
                g = f
                for _ in range(order):
                    g = operator("derivative")(g)
                ys = [_value_at(who, g, (x,), f"x = {x:g}", interp.handlers) for x in xs]
                undefined = sum(1 for y in ys if math.isnan(y))
                if undefined == len(ys):
                    # nowhere defined: the error itself says more than an empty picture
                    runtime.apply_procedure(g, (xs[len(xs) // 2],))
                gaps += undefined
                line, = axes.plot(xs, ys, label=label)
                line.set_gid(f"curve-{order}")
            axes.axhline(0, color="#999", linewidth=0.6)
            axes.set_xlabel("x")
            axes.legend()
            axes.grid(alpha=0.3)
            if options["title"] is not None:
                axes.set_title(str(options["title"]))
            description = f"{', '.join(labels)} on [{lo:g}, {hi:g}]{_undefined_note(gaps, samples * len(orders))}"
            return Picture("plot", description, _svg_of(figure, matplotlib))

    def grid_values(who, call, f, xr, yr, count):
        import numpy
        xs = numpy.linspace(*xr, count)
        ys = numpy.linspace(*yr, count)
        zs = numpy.array([[_value_at(who, f, call(float(x), float(y)), f"({x:g}, {y:g})", interp.handlers)
                           for x in xs] for y in ys])
        return xs, ys, zs

    def contour_lines(axes, xs, ys, zs, count, style):
        import numpy
        finite = zs[numpy.isfinite(zs)]
        if finite.size == 0:
            return
        # levels at quantiles of the values: a steep valley (Rosenbrock) still gets lines where
        # the interesting part is, which evenly spaced levels would crowd into one corner
        levels = numpy.unique(numpy.quantile(finite, numpy.linspace(0.02, 0.98, count)))
        if levels.size >= 2:
            contours = axes.contour(xs, ys, zs, levels=levels, linewidths=0.8, **style)
            contours.set_gid("contours")

    def plot_gradient_field(f, x_start, x_end, y_start, y_end, *options):
        """The gradient of f (of two numbers, or of a point) as arrows over f's contour lines."""
        who = "plot-gradient-field"
        call = _two_number_caller(who, f)
        xr = _range(who, "the x interval", x_start, x_end)
        yr = _range(who, "the y interval", y_start, y_end)
        options = _options(who, options, {"arrows": 15, "contours": 12, "title": None})
        arrows = _count(who, "'arrows", options["arrows"], 2)
        contours = _count(who, "'contours", options["contours"], 0)
        matplotlib, Figure = _matplotlib(who)
        with matplotlib.rc_context(STYLE):
            gradient = operator("gradient")
            points, directions, gaps = [], [], 0
            for i in range(arrows):
                for j in range(arrows):
                    x = xr[0] + (xr[1] - xr[0]) * i / (arrows - 1)
                    y = yr[0] + (yr[1] - yr[0]) * j / (arrows - 1)
                    args = call(x, y)
                    try:
                        g = runtime.sheltered(interp.handlers, gradient, (f, *args))
                    except UNDEFINED_AT_POINT:
                        gaps += 1
                        continue
                    parts = _elements(g)
                    if parts is None or len(parts) != 2:
                        fail(f"{who}: the gradient at ({x:g}, {y:g}) is {write_string(g)}, not two numbers")
                    gx, gy = (plain(p) for p in parts)
                    if not all(is_number(c) and c.__class__ is not complex for c in (gx, gy)):
                        fail(f"{who}: the gradient at ({x:g}, {y:g}) is {write_string(g)}, not two numbers")
                    gx, gy = float(gx), float(gy)
                    if not (math.isfinite(gx) and math.isfinite(gy)):
                        gaps += 1       # at a pole: no arrow there
                        continue
                    points.append((x, y))
                    directions.append((gx, gy))
            if not points:
                runtime.apply_procedure(gradient, (f, *call((xr[0] + xr[1]) / 2, (yr[0] + yr[1]) / 2)))
            figure = Figure(figsize=(5.6, 5.0))
            axes = figure.add_subplot()
            if contours:
                contour_lines(axes, *grid_values(who, call, f, xr, yr, 60), contours, {"colors": "#aaaaaa"})
            # arrows of a common length, coloured by the gradient's size: the direction is the
            # point of the picture, and the largest gradient would otherwise shrink all others
            lengths = [math.hypot(gx, gy) for gx, gy in directions]
            unit = [(gx / n, gy / n) if n > 0 else (0.0, 0.0) for (gx, gy), n in zip(directions, lengths)]
            field = axes.quiver([p[0] for p in points], [p[1] for p in points], [u[0] for u in unit],
                                [u[1] for u in unit], lengths, cmap="plasma", pivot="mid",
                                angles="xy", scale_units="xy",
                                scale=arrows / (0.8 * min(xr[1] - xr[0], yr[1] - yr[0])))
            field.set_gid("gradient-field")
            figure.colorbar(field, ax=axes, label="|∇f|")
            axes.set_xlabel("x")
            axes.set_ylabel("y")
            axes.set_title(str(options["title"]) if options["title"] is not None else f"∇{_name(f)}")
            description = (f"∇{_name(f)} on [{xr[0]:g}, {xr[1]:g}] × [{yr[0]:g}, {yr[1]:g}]"
                           f"{_undefined_note(gaps, arrows * arrows)}")
            return Picture("gradient-field", description, _svg_of(figure, matplotlib))

    def as_point(p):
        items = _elements(p)
        if items is None or len(items) != 2 or not all(is_number(c) for c in items):
            return None
        return tuple(_real("plot-path", "a coordinate", c) for c in items)

    def paths_of(who, value) -> list[list[tuple[float, float]]]:
        """One path (a list of points, each a list or vector of two numbers) or a list of them."""
        items = _elements(value) or []
        candidates = [items] if items and as_point(items[0]) is not None else [_elements(i) for i in items]
        paths = []
        for path in candidates:
            points = [as_point(p) for p in path] if path else None
            if not points or any(p is None for p in points):
                fail(f"{who}: expected a path (a list of points of two numbers) or a list of paths, "
                     f"got {write_string(value)}")
            paths.append(points)
        if not paths:
            fail(f"{who}: expected a path (a list of points of two numbers) or a list of paths, "
                 f"got {write_string(value)}")
        return paths

    def plot_path(f, path, *options):
        """Paths of points (an optimizer's iterates) over the contour lines of f."""
        who = "plot-path"
        call = _two_number_caller(who, f)
        paths = paths_of(who, path)
        options = _options(who, options, {"labels": None, "x-range": None, "y-range": None,
                                          "contours": 15, "title": None})
        labels = ([f"path {k + 1}" for k in range(len(paths))] if len(paths) > 1 else ["path"]) \
            if options["labels"] is None else _strings(who, "'labels", options["labels"])
        if len(labels) != len(paths):
            fail(f"{who}: {len(labels)} labels for {len(paths)} paths")
        contours = _count(who, "'contours", options["contours"], 0)

        def extent(axis, option):
            if options[option] is not None:
                bounds = _elements(options[option])
                if bounds is None or len(bounds) != 2:
                    fail(f"{who}: '{option} must be a list of two numbers, got {write_string(options[option])}")
                return _range(who, f"'{option}", *bounds)
            values = [p[axis] for path in paths for p in path]
            lo, hi = min(values), max(values)
            margin = 0.25 * (hi - lo) or 1.0
            return lo - margin, hi + margin
        xr, yr = extent(0, "x-range"), extent(1, "y-range")
        matplotlib, Figure = _matplotlib(who)
        with matplotlib.rc_context(STYLE):
            figure = Figure(figsize=(5.6, 5.0))
            axes = figure.add_subplot()
            if contours:
                contour_lines(axes, *grid_values(who, call, f, xr, yr, 80), contours, {"cmap": "viridis"})
            for k, (points, label) in enumerate(zip(paths, labels)):
                line, = axes.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                                  markersize=3, linewidth=1.2, label=f"{label} ({len(points) - 1} steps)")
                line.set_gid(f"path-{k}")
                axes.plot([points[-1][0]], [points[-1][1]], marker="*", markersize=12, color=line.get_color())
            axes.set_xlim(*xr)
            axes.set_ylim(*yr)
            axes.set_xlabel("x")
            axes.set_ylabel("y")
            axes.legend()
            axes.set_title(str(options["title"]) if options["title"] is not None else f"minimizing {_name(f)}")
            ends = "; ".join(f"{label} ends at ({p[-1][0]:.6g}, {p[-1][1]:.6g})" for label, p in zip(labels, paths))
            return Picture("path", ends, _svg_of(figure, matplotlib))

    return {
        "plot": plot,
        "plot-gradient-field": plot_gradient_field,
        "plot-path": plot_path,
    }


# The primitives above are made anew for each interpreter; their documentation is the same.
for _documented, _signature, _doc in [
    ("plot", "(plot f from to [option value] …)",
     "A picture of f, a function of one number, from from to to, with its derivatives, each "
     "computed by derivative at every sample. Options: 'orders (default (0 1 2); 0 is f itself), "
     "'labels (a list of strings, one per order), 'samples (200), 'title. Needs matplotlib."),
    ("plot-gradient-field", "(plot-gradient-field f x-from x-to y-from y-to [option value] …)",
     "A picture of the gradient of f, a function of two numbers or of a point (x y), as arrows "
     "over f's contour lines; the colour is the gradient's size. Options: 'arrows (15 a side), "
     "'contours (12; 0 for none), 'title. Needs matplotlib."),
    ("plot-path", "(plot-path f path [option value] …)",
     "A picture of a path (a list of points of two numbers, as gradient-descent-path and "
     "newton-minimize-path give) or a list of paths over the contour lines of f. Options: 'labels, "
     "'x-range and 'y-range (lists of two numbers; the paths' extent by default), 'contours (15), "
     "'title. Needs matplotlib."),
]:
    document(_documented, _signature, _doc)
