r"""The multi-label bandit: multi-label data turned into a contextual bandit (L2484–2490).

Arm model — read from the text, not from the usual conversion. The thesis's learners fit
one shared parameter, :math:`f_t(x, a) = \langle\hat\theta_t, x_{t,a}\rangle` with
":math:`x_a` differs for each :math:`a`" (L2435), and the bandit is built "by sampling
:math:`|A|` reviews uniformly from the whole dataset, and treating the associated features
as the contexts :math:`\{x_{t,a}\}_{a \in A}`", with "a reward of one for correctly
predicting any one of the categories to which the product belongs" (L2487–2490). Its
reward histogram is per arm and follows the categories' power law (Fig. 4.2: the top 5 of
100 arms hold 19.22 % of the positives), so arm :math:`a` is category :math:`a`. Hence
here, each round and for each arm :math:`a` independently, a data point
:math:`i_{t,a}` is drawn uniformly;

.. math:: x_{t,a} = \text{features}(i_{t,a}), \qquad
          r_{t,a} = 1\{\text{point } i_{t,a} \text{ has label } a\},

and all arms share one linear model, as in the synthetic world — which is also what gives
"each nominator is updated with :math:`(x_{n,t}, a_t, r_t)` regardless of whether
:math:`a_t \in A_n`" (L2511–2513) and Proposition 2 their content: with a separate
parameter per arm (the textbook conversion, every arm seeing the same :math:`x_t`),
training on all data and training on the own pool would coincide. Positivity is the mean
label frequency, and a random set of arms covers a positive with probability
:math:`1 - \prod(1 - p_a)` (≈ :math:`1 - 0.9^{10}` for ten arms, L2597–2602).

What transfers from the thesis's AmazonCat figures (Fig. 4.4): the data here match its
label statistics (:mod:`~recdyn.bandits.labels`), not BERT's feature geometry, so absolute
(relative) regrets do not transfer; the shapes do — relative regret against d/s and N, and
the nominator share of the regret falling with N (measured at d = 400, |A| = 100, s = 50,
T = 300: 0.88, 0.32, 0.09 of the regret for N = 2, 10, 20).

Arm :math:`a` is the :math:`a`-th most frequent label: ``n_arms`` must not exceed the data's
labels (the generators make as many as asked for). The data are fixed by ``data_seed``
(like a data set) and shared by every run seed; the run seeds draw the points.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from numbers import Integral
from typing import Annotated

import numpy as np

from recdyn.bandits.labels import MultiLabelData, lastfm_multilabel, synthetic_multilabel
from recdyn.bandits.streams import RowDraws
from recdyn.bandits.worlds import BanditWorld, Round, WorldRun, _rows_index
from recdyn.constraints import Interval, Options
from recdyn.errors import InvalidParameterError

__all__ = ["IndexedRound", "MultiLabelWorld"]


class IndexedRound(Round):
    """A round whose arm ``a`` of row ``b`` shows data point ``points[b, a]``; contexts are
    gathered from ``features`` ``[n, d]`` only where asked for."""

    def __init__(self, features: np.ndarray, points: np.ndarray, means: np.ndarray) -> None:
        self.features, self.points = features, points
        self.means = self.rewards = means

    def subset(self, rows: np.ndarray) -> IndexedRound:
        return IndexedRound(self.features, self.points[rows], self.means[rows])

    def take(self, arms: np.ndarray | None = None, features: np.ndarray | None = None):
        arms = self._all_arms() if arms is None else arms
        pts = self.points[_rows_index(len(arms), arms.ndim), arms]
        if features is None:
            return self.features[pts]
        if features.ndim < arms.ndim:
            raise InvalidParameterError("features must have the arms' leading axes")
        return self.features[pts[..., None], features[..., None, :]]


@functools.lru_cache(maxsize=4)
def _data(source: str, n_points: int, dim: int, n_labels: int, data_seed: int):
    if source == "synthetic":
        return synthetic_multilabel(n_points, dim, n_labels, data_seed)
    return lastfm_multilabel(dim=dim, n_labels=n_labels)


class _MultiLabelRun(WorldRun):
    def __init__(self, world: MultiLabelWorld, seeds: Sequence[int]) -> None:
        super().__init__(world, seeds)
        data = world.data
        self.features = np.ascontiguousarray(data.features, dtype=float)
        self.labels = data.labels[:, : self.n_arms]
        self._points = RowDraws(
            self.generators("contexts"), (self.n_arms,), "integers",
            rows=self.rows, high=data.n_points,
        )  # fmt: skip
        self._arms = np.arange(self.n_arms)

    def next_round(self) -> IndexedRound:
        pts = self._points.next()
        return IndexedRound(self.features, pts, self.labels[pts, self._arms].astype(float))


class MultiLabelWorld(BanditWorld):
    """Multi-label data as a bandit (module doc): ``source`` ``"synthetic"``
    (:func:`~recdyn.bandits.labels.synthetic_multilabel` with ``n_points``, ``dim`` and
    ``data_seed``) or ``"lastfm"`` (:func:`~recdyn.bandits.labels.lastfm_multilabel` with
    ``dim``; needs ``RECDYN_DATA_DIR``); arm ``a`` is label ``a``."""

    def __init__(
        self,
        *,
        source: Annotated[str, Options(["synthetic", "lastfm"])] = "synthetic",
        n_arms: Annotated[int, Interval(Integral, 1, None)] = 100,
        dim: Annotated[int, Interval(Integral, 1, None)] = 400,
        n_points: Annotated[int, Interval(Integral, 1, None)] = 10_000,
        data_seed: Annotated[int, Interval(Integral, 0, None)] = 0,
    ) -> None:
        pass

    def _check_params(self) -> None:
        if self.source == "lastfm" and self.dim > 400:
            raise InvalidParameterError(f"dim must be ≤ 400 for the lastfm source, got {self.dim}")

    @property
    def data(self) -> MultiLabelData:
        """The data (built once per process and parameter set)."""
        return _data(self.source, self.n_points, self.dim, self.n_arms, self.data_seed)

    def _start(self, seeds: list[int]) -> WorldRun:
        return _MultiLabelRun(self, seeds)
