"""The ``recdyn`` command line: one module per command, registered on one Typer app.

::

    recdyn envs [-v]
    recdyn recommenders
    recdyn simulate ENV [-r NAME] [--policy NAME --policy-param KEY=VALUE …]
                        [--steps N] [--seed S] [--set KEY=VALUE …] [--out DIR]
    recdyn tune RECOMMENDER --grid KEY=V1,V2 … (--env PRESET | --dataset NAME)
    recdyn validate SPEC · recdyn run SPEC [--backend local|ray] [--workers N] [--out DIR]
    recdyn results DIR [--csv PATH]
    recdyn report DIR [--out DIR] [--smooth N]
    recdyn study [NAME] [--quick] [--out DIR]
    recdyn --version

Layout: :mod:`~recdyn.cli.core` (the app, consoles, ``error: …`` with exit 2),
:mod:`~recdyn.cli.assignments` (``KEY=VALUE`` options), :mod:`~recdyn.cli.formatting`
(plain-text values and descriptions), :mod:`~recdyn.cli.options` (shared options), and one
module per command. Importing a command's module registers it on :data:`app`.
"""

from __future__ import annotations

# Importing a command's module registers it; `recdyn --help` lists them in this order.
# isort: off
from recdyn.cli import envs, recommenders, simulate, tune  # noqa: F401
from recdyn.cli import validate, run, results, report, study  # noqa: F401

# isort: on
from recdyn.cli.core import app

__all__ = ["app"]
