"""How a nablisp process sets Python's cyclic garbage collector.

Differentiation allocates a great many small container objects (tagged values, tape entries,
bundles), nearly all of which reference counting frees young.  With CPython's defaults, a
young collection every 700 allocations and, every so often, a full one that walks every object
alive, a 30-variable Hessian spent about half of its time in the collector, most of it walking
the interpreter's own start-up objects (the compiled prelude, the parser's tables), which live
as long as the process.  So a process that runs nablisp freezes its start-up objects out of
collection and collects the young generation every 10,000 allocations.  Cyclic garbage is
still collected; a frozen object that becomes garbage stays (start-up objects do not).

The command line and the REPL call `settle_collector` once their interpreter is made.  An
embedding program owns its process and its collector: it may call it too.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def settle_collector(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Freeze the objects alive now; collect the young generation less often (never more often
    than it is set to, and not at all if collection is switched off)."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if young:
        gc.set_threshold(max(young, young_threshold), middle, old)


def release_frozen() -> None:
    """Give frozen objects back to the collector (an interpreter replaced by a fresh one)."""
    gc.unfreeze()
