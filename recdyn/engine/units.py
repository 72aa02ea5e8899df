"""Units of work as plain data, and the function every worker runs on them.

A unit's payload is an object with a ``run(report)`` method whose fields are plain data
(names, parameters, seeds): :class:`Call` for a study's units, the experiment's
``TuneUnit``/``TaskUnit`` (:mod:`recdyn.experiments.runner`). Workers import the code
they run by name, so a payload is a few hundred bytes and the same recdyn runs it on any
node. :func:`run_unit` is what an executor runs by default.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: ``report(step)``: how a unit tells the driver how far it got (progress bars).
Report = Callable[[int], None]


@dataclass(frozen=True)
class Call:
    """Call the top-level function ``"module:name"`` with keyword arguments ``kwargs``.

    Keep ``kwargs`` JSON-like (numbers, strings, lists, dicts): they identify the unit in
    a :class:`~recdyn.engine.unit_store.UnitStore` (by their hash) and travel to workers.
    """

    function: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def run(self, report: Report | None = None) -> Any:
        module, _, name = self.function.partition(":")
        return getattr(importlib.import_module(module), name)(**self.kwargs)


def run_unit(payload: Any, report: Report | None = None) -> Any:
    """Run one unit of work in a worker: ``payload.run(report)``."""
    run = getattr(payload, "run", None)
    if run is None:
        raise TypeError(
            f"a unit of work is an object with a run(report) method; got {type(payload).__name__}"
        )
    return run(report)


__all__ = ["Call", "Report", "run_unit"]
