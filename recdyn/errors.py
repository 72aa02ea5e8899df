"""Exceptions raised by recdyn.

Every error a user can trigger is a :class:`RecdynError`. Subclasses also derive from the
built-in exception a Python programmer would expect (``ValueError``, ``KeyError`` …), so
``except ValueError`` keeps working, while ``except recdyn.RecdynError`` catches all of them.
Messages name the argument, the bad value and what would be valid.
"""

from __future__ import annotations


class RecdynError(Exception):
    """Base class of all errors raised by recdyn."""


class InvalidParameterError(RecdynError, ValueError):
    """A constructor argument or function argument is out of its valid domain."""


class UnknownNameError(RecdynError, KeyError):
    """A name (preset, recommender, policy, metric) is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise show the message in quotes
        return str(self.args[0]) if self.args else ""


class InvalidSlateError(RecdynError, ValueError):
    """Slates passed to ``Environment.step`` have the wrong shape, ids or duplicates."""


class NotResetError(RecdynError, RuntimeError):
    """An environment was used before ``reset`` was called."""


class NoEligibleUsersError(RecdynError, RuntimeError):
    """No user is left who has not already rated every item."""


class NotFittedError(RecdynError, RuntimeError):
    """A recommender was asked for scores before ``fit``."""


class CheckError(RecdynError, AssertionError):
    """A component failed a contract check (``check_environment``, ``check_recommender``,
    ``check_policy``, ``check_online_metric``), or returned what the loop cannot use (NaN
    scores); the message names the check and the component."""


class SpecError(InvalidParameterError):
    """An experiment spec is malformed; the message has one ``path: problem`` per line."""


class MissingDependencyError(RecdynError, ImportError):
    """An optional dependency (an extra such as ``recdyn[torch]``) is not installed."""


class InsufficientMemoryError(RecdynError, MemoryError):
    """A world or a run would need more memory than the machine has; raised before
    anything large is allocated, naming how much each structure needs and which
    parameter to change."""
