"""The verdict rules shared by the ``exposure-audit`` study's findings: which runs count,
how a finding states the runs it rests on, and the test over recommender seeds.

Runs of one recommender seed share its embeddings, so recommender seeds are the
independent units: a statistic is averaged per seed over the kept runs (those the
second-order test did not rule out, "did not rule out an ε-LNE", thesis L4128–4130), then
a 95 % t-interval over seeds decides: ✓ above 0, ✗ otherwise, – (``None``, values shown)
with fewer than :data:`MIN_SEEDS` seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["MIN_SEEDS", "counts", "kept", "seed_interval"]

MIN_SEEDS = 3


def kept(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs the second-order test did not rule out (confirmed or inconclusive)."""
    return runs[runs["status"] != "violated"]


def counts(runs: pd.DataFrame) -> str:
    """``[N runs: … confirmed, … inconclusive, … violated; … stopped at the cap]``."""
    s = runs["status"]
    return (
        f"[{len(runs)} runs: {(s == 'confirmed').sum()} confirmed, "
        f"{(s == 'inconclusive').sum()} inconclusive, {(s == 'violated').sum()} violated; "
        f"{int(runs['capped'].sum())} stopped at the cap]"
    )


def seed_interval(per_seed: pd.Series) -> tuple[str, bool | None]:
    """Per-seed values → (text, verdict): the mean and its 95 % t-interval over seeds,
    ✓ when it lies above 0 (module doc)."""
    v = per_seed.dropna().to_numpy(dtype=float)
    if len(v) < MIN_SEEDS:
        shown = ", ".join(f"{x:+.4f}" for x in v) or "none"
        return f"per seed {shown}; too few recommender seeds to judge (need {MIN_SEEDS})", None
    mean = float(np.mean(v))
    half = float(stats.t.ppf(0.975, len(v) - 1) * stats.sem(v))
    text = (
        f"{mean:+.4f} (95 % interval over {len(v)} seeds {mean - half:+.4f} to "
        f"{mean + half:+.4f})"
    )
    return text, bool(mean - half > 0)
