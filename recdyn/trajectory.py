"""What :func:`recdyn.simulate` returns: a :class:`Trajectory` — the per-step metrics, the
interaction log, the fitted recommender and the run's parameters — with its summary, plot
and files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recdyn._paths import check_output_dir
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender

__all__ = ["Trajectory"]


@dataclass
class Trajectory:
    """The result of :func:`simulate`.

    metrics: DataFrame, one row per step (``step`` 1..T) with a column per online metric,
        a ``heldout_<metric>`` column per held-out metric (NaN between evaluations),
        ``n_ratings`` (cumulative ratings held, initial data included) and ``seconds``.
    interactions : the full log — initial data (``step == 0``) and every online rating.
    recommender : the fitted recommender at the end of the run.
    info : environment spec, recommender and policy parameters, seed, timings, training.
    training : with ``training="uniform"``, the shadow ratings the recommender was trained
        on after its initial fit (``None`` when it trained on ``interactions``).
    """

    metrics: pd.DataFrame
    interactions: Interactions
    recommender: Recommender
    info: dict[str, Any] = field(default_factory=dict)
    training: Interactions | None = None

    def summary(self) -> pd.Series:
        """Mean of each metric over the run (plus the final cumulative rating count)."""
        cols = [c for c in self.metrics.columns if c not in ("step", "n_ratings", "seconds")]
        out = self.metrics[cols].mean()
        out["steps"] = len(self.metrics)
        out["final_n_ratings"] = (
            self.metrics["n_ratings"].iloc[-1] if len(self.metrics) else len(self.interactions)
        )
        out["seconds"] = self.metrics["seconds"].sum() if len(self.metrics) else 0.0
        return out

    def plot(self, path: str | Path | None = None, metrics: Sequence[str] | None = None):
        """Plot each metric over time (one panel per metric); save to ``path`` if given."""
        from recdyn.plotting import plot_metrics

        return plot_metrics(self.metrics, path=path, metrics=metrics, title=self._title())

    def save(self, directory: str | Path) -> Path:
        """Write ``metrics.parquet``, ``metrics.csv``, ``interactions.parquet``, ``info.json``
        (and ``training.parquet`` for a shadow-trained run).

        Raises :class:`InvalidParameterError` naming the path when ``directory`` cannot be
        written: ``""``, a file, a path under a file (checked first, see
        :func:`recdyn._paths.check_output_dir`), or a failed write.
        """
        out = check_output_dir(directory, "the trajectory")
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.metrics.to_parquet(out / "metrics.parquet", index=False)
            self.metrics.to_csv(out / "metrics.csv", index=False)
            self.interactions.to_pandas().to_parquet(out / "interactions.parquet", index=False)
            (out / "info.json").write_text(json.dumps(self.info, indent=2, default=str))
            if self.training is not None:
                self.training.to_pandas().to_parquet(out / "training.parquet", index=False)
        except OSError as err:
            raise InvalidParameterError(
                f"cannot write the trajectory to {str(out)!r}: {err.strerror or err}"
            ) from err
        return out

    def _title(self) -> str:
        env = self.info.get("environment", {}).get("name", "")
        rec = self.info.get("recommender", {}).get("name", "")
        return f"{rec} on {env} (seed {self.info.get('seed')})"
