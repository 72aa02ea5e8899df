r"""Learned pool allocation by a Gaussian mixture of experts (thesis ch. 4 §4.4, Fig. 4.5).

:math:`N` experts (nominators) score every arm; a gate assigns example :math:`t` =
(context :math:`x_t`, arm :math:`a_t`, reward :math:`r_t`) to expert :math:`n` with weight
:math:`p_{n,t}`. The model maximises the Gaussian mixture likelihood (L3055–3090),

.. math:: \min\; -\frac1B\sum_{t=1}^B \log\sum_{n=1}^N \exp\Big(\log p_{n,t}
          - \frac{(r_t - \hat r_{n,t})^2}{2\sigma^2}\Big),

on minibatches of ``batch_size`` examples drawn uniformly with replacement.

* Experts — two towers (L3150–3154): :math:`\hat r_n(x, a) = \langle W_n x_{S_n} + c_n,
  e_{n,a}\rangle` with :math:`S_n` a random ``n_features``-subset of the ``d`` features
  (:func:`~recdyn.bandits.allocation.random_features`), :math:`W_n \in R^{d_e\times s}` and
  a learned item embedding :math:`e_{n,a} \in R^{d_e}` (``item_dim``). The intercept
  :math:`c_n` (``intercept=True``) is ours: the thesis's BERT features were standardised
  by one mean over all entries (L3565), so their coordinates keep non-zero means and a
  bias-free tower can still learn per-item offsets :math:`\langle W_n\mu_S, e_{n,a}\rangle`;
  the synthetic features are centred per coordinate, and without :math:`c_n` no expert
  could model an arm's base rate (popularity). All :math:`N` experts are one batched
  computation (``bmm`` over an expert axis, no loop over experts).
* Learned gate (L3155–3156) — additive logits, :math:`\log p_n(x, a) = \mathrm{log\,softmax}_n
  (u_n(x) + v_n(a))`, :math:`v_n(a)` a learned per-arm table. What the user part
  :math:`u_n(x)` sees is ``gate_features``:

  - ``"none"`` (default) — no :math:`u`: the gate is a soft pool allocation learned from the
    arms alone (the thesis's option 1, "restricting the gating network only to the item
    features", L3119–3122). It has exactly the information of the random pools it is
    compared with, so Fig. 4.5's comparison isolates the *allocation*.
  - ``"own"`` — :math:`u_n(x) = \langle g_n, x_{S_n}\rangle`: each nominator's logit from its
    own features (a gate inside the nominator stage that sees nothing new).
  - ``"all"`` — :math:`u_n(x) = \langle g_n, x\rangle` over all ``d`` features (a separate
    :math:`O(dN)` gate; the literal reading of "learned user embeddings").

  Measured on the synthetic data (d = 400, 100 arms, test P@5 after 1000 steps of 4096, the
  thesis's σ² = 0.01; random pools 0.375 at c = 500, 0.35 at c = 100): at N = 10, s = 50,
  d_e = 10, c = 500 — none 0.397, own 0.377, all 0.343; at s = 10, d_e = 5, c = 100 —
  none 0.308 (0.417 after 4000 steps of 1024), own 0.296, all 0.19. A context-dependent
  gate becomes a second classifier that overfits (``"all"`` has :math:`dN` weights on
  10k–75k examples), hence the default.

  With 0/1 rewards and a small σ², the mixture likelihood is also maximised by a
  constant-0 and a constant-1 expert mixed by the gate, whatever the features (the
  Gaussian mixture fits the Bernoulli distribution of :math:`r`); the learned gate leaves
  this state slowly — the reason for the long convergence of the σ² = 0.01 MoE below.
* Random gate (the baseline) — :math:`p_n(x, a) = 1\{a \in A_n\}` for a random partition
  :math:`\{A_n\}` of the arms fixed at the start
  (:func:`~recdyn.bandits.allocation.random_pools`); the :math:`\log 0 = -\infty` terms drop
  out, so each arm is fitted by its pool's expert alone (squared loss over :math:`2\sigma^2`).
* Ranking (L3142–3146) — the mixture mean :math:`\sum_n p_n(x,a)\,\hat r_n(x,a)`; the top
  ``k`` arms of each test point (ties to the lower arm); precision@k = hits / k, recall@k =
  hits / #positives, both 0 for a point with no positives.

Hyperparameters (L3604–3618): learning rate 0.01; Adam with :math:`\sigma^2 = 0.01` for
the MoE (:math:`\sigma^2 = 1` at :math:`d_e = 50`), RMSProp with :math:`\sigma^2 = 1` for
random pools — :func:`thesis_defaults`, what ``optimizer=None`` / ``sigma2=None`` resolve
to. The thesis took 50,000 steps of 4096 examples, no early stopping (here ≈ 10–150 ms a
step on one CPU core: 10 min to 2 h a fit). The defaults are :data:`STEPS` = 4000 steps of
:data:`BATCH_SIZE` = 1024, from the convergence check of ``benchmarks/bench_moe.py`` (its
docstring has the table): the slowest curve, the σ² = 0.01 MoE at c = 100, reaches its
plateau after ≈ 4000 steps (then within ±0.005 of P@5, about one standard error, up to
16,000), most others after 250–2000; batches of 4096 take as many steps or more (at c =
100, P@5 0.36 after 4000 steps of 4096 against 0.417 of 1024) at 3–5× the cost of a step.
A fit then takes 14–92 s (mean 30 s over Fig. 4.5's grid) on one core. Without early
stopping, the σ² = 1 MoE at :math:`d_e = 50`, c = 100 overfits (P@5 0.425 after 250 steps,
0.30 after 4000, as the thesis found at small c and large :math:`d_e`).

Randomness: streams ``("bandits", "moe", "pools" | "features" | "init" | "batches")`` of
``seed``; torch draws from generators seeded from them (:func:`~recdyn.recommenders.
neural.runtime.torch_generator`), inside :func:`~recdyn.recommenders.neural.runtime.
seeded`. Computation is float32; on a CPU, the same seed and thread count give
bit-identical results. Torch is imported inside the functions only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np

from recdyn.bandits.allocation import random_features, random_pools
from recdyn.bandits.moe_data import (
    OfflineExamples,
    OfflineSplit,
    OfflineTest,
    precision_recall_at_k,
)
from recdyn.constraints import Boolean, Interval, Options, Seed
from recdyn.errors import InvalidParameterError, NotFittedError
from recdyn.params import Parametrized
from recdyn.recommenders.neural.runtime import require_torch, seeded, torch_generator
from recdyn.seeding import generator

__all__ = ["BATCH_SIZE", "STEPS", "MixtureOfExperts", "precision_recall_at_k", "thesis_defaults"]

#: Default optimisation steps and batch size (module doc; ``benchmarks/bench_moe.py``).
STEPS = 4000
BATCH_SIZE = 1024
#: Above this item_dim, the experts use the [N, B, d_e] layout (MoEModule).
_WIDE = 16
#: Test points scored at a time.
_CHUNK = 1024
#: Standard deviation of the initial item-side output r̂ (the towers start near zero).
_INIT_SCALE = 0.1


def thesis_defaults(gate: str, item_dim: int) -> dict[str, Any]:
    """The thesis's training recipe (L3604–3618): learning rate 0.01, batch 4096, 50,000
    steps; ``"learned"`` — Adam, σ² = 0.01 (σ² = 1 from ``item_dim`` = 50 on, "to prevent
    massive overfitting"); ``"random"`` — RMSProp, σ² = 1.
    ``MixtureOfExperts(gate=g, item_dim=k, **thesis_defaults(g, k))`` is the thesis's fit;
    ``optimizer``, ``learning_rate`` and ``sigma2`` left ``None`` take these values, while
    the constructor's ``batch_size`` and ``steps`` defaults are the cheaper converged ones of
    the module doc."""
    common = {"learning_rate": 0.01, "batch_size": 4096, "steps": 50_000}
    if gate == "learned":
        return {"optimizer": "adam", "sigma2": 1.0 if item_dim >= 50 else 0.01, **common}
    if gate == "random":
        return {"optimizer": "rmsprop", "sigma2": 1.0, **common}
    raise InvalidParameterError(f"gate must be one of 'learned', 'random'; got {gate!r}")


def _optimizer(torch: Any, kind: str, params: Any, lr: float) -> Any:
    """``torch.optim``'s Adam or RMSProp with its defaults (RMSProp's ε = 1e-8 as Adam's)."""
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr)


@functools.cache
def _module_class() -> type:
    torch = require_torch("MixtureOfExperts")
    nn = torch.nn

    class MoEModule(nn.Module):
        """The N experts and the gate as batched tensors, expert axis first (one ``bmm``
        for all experts' towers). Two layouts of the same model, by speed: examples last
        (``[N, d_e, B]``) for small ``item_dim``, and ``[N, B, d_e]`` for ``item_dim`` >
        :data:`_WIDE` (2× faster there, 2× slower at small ``item_dim``)."""

        def __init__(self, features, pools, n_arms, dim, item_dim, learned, gate_features,
                     intercept, gen):  # fmt: skip
            super().__init__()
            n, s = features.shape
            self.n, self.s, self.wide = n, s, item_dim > _WIDE
            self.register_buffer("subsets", torch.as_tensor(features).reshape(-1))
            # W_n [N, d_e, s] and e_{n,a} [N, d_e, A] (transposed in the wide layout)
            tower = torch.randn(n, item_dim, s, generator=gen) / np.sqrt(s)
            scale = _INIT_SCALE / np.sqrt(item_dim)
            items = torch.randn(n, item_dim, n_arms, generator=gen) * scale
            if self.wide:
                tower, items = tower.mT.contiguous(), items.mT.contiguous()
            self.tower, self.items = nn.Parameter(tower), nn.Parameter(items)
            bias = (n, 1, item_dim) if self.wide else (n, item_dim, 1)  # c_n
            self.bias = nn.Parameter(torch.zeros(bias)) if intercept else None
            self.learned, self.gate_features = learned, gate_features
            if learned:  # g_n ([N, d] or [N, s]) and v_n(a) ([N, A])
                width = {"all": dim, "own": s, "none": 0}[gate_features]
                self.gate_x = nn.Parameter(torch.zeros(n, width)) if width else None
                self.gate_a = nn.Parameter(torch.zeros(n, n_arms))
            else:
                mask = torch.full((n, n_arms), -torch.inf)
                for i, pool in enumerate(pools):
                    mask[i, torch.as_tensor(pool)] = 0.0
                self.register_buffer("log_pools", mask)

        def towers(self, x):
            """The experts' inputs :math:`x_{S_n}` and user towers :math:`W_n x_{S_n} +
            c_n` of contexts ``x`` ``[B, d]``: ``[N, B, s]`` and ``[N, B, d_e]`` (wide
            layout) or ``[N, s, B]`` and ``[N, d_e, B]``."""
            if self.wide:
                xs = x.index_select(1, self.subsets).view(len(x), self.n, self.s).transpose(0, 1)
                h = torch.bmm(xs, self.tower)
            else:
                xs = x.T.contiguous().index_select(0, self.subsets).view(self.n, self.s, -1)
                h = torch.bmm(self.tower, xs)
            return xs, (h if self.bias is None else h + self.bias)

        def user_logits(self, x, xs):
            """:math:`u_n(x)` ``[N, B]``, or ``None`` without context in the gate."""
            if self.gate_x is None:
                return None
            if self.gate_features == "all":
                return (x @ self.gate_x.T).T
            if self.wide:
                return torch.bmm(xs, self.gate_x[:, :, None])[:, :, 0]
            return torch.bmm(self.gate_x[:, None, :], xs)[:, 0]

        def loss(self, x, arm, reward, sigma2):
            """The mean negative log-likelihood (module doc) of examples with contexts
            ``x`` ``[B, d]``, arms ``arm`` and rewards ``reward`` ``[B]``, ``[]``."""
            xs, h = self.towers(x)
            if self.wide:
                pred = (h * self.items.index_select(1, arm)).sum(2)
            else:
                pred = (h * self.items.index_select(2, arm)).sum(1)
            if self.learned:
                logits = self.gate_a.index_select(1, arm)
                u = self.user_logits(x, xs)
                log_p = torch.log_softmax(logits if u is None else logits + u, dim=0)
            else:
                log_p = self.log_pools.index_select(1, arm)
            sq = (reward - pred) ** 2 / (2 * sigma2)
            return -torch.logsumexp(log_p - sq, dim=0).mean()

        def experts_and_gate(self, x):
            """Expert predictions and gate log-weights, both ``[B, A, N]``, of contexts
            ``x`` ``[B, d]``."""
            xs, h = self.towers(x)
            pred = torch.einsum("nbk,nak->ban" if self.wide else "nkb,nka->ban", h, self.items)
            if not self.learned:
                return pred, self.log_pools.T[None].expand_as(pred)
            logits = self.gate_a.T[None]  # [1, A, N]
            u = self.user_logits(x, xs)
            if u is not None:
                logits = logits + u.T[:, None, :]
            return pred, torch.log_softmax(logits.expand_as(pred), dim=2)

    return MoEModule


class MixtureOfExperts(Parametrized):
    """Pool allocation by a Gaussian mixture of experts, or random pools (module doc).

    ``gate``: ``"learned"`` (the MoE) or ``"random"`` (fixed random pools);
    ``n_experts`` = :math:`N`; ``n_features`` = :math:`s`; ``item_dim`` = :math:`d_e`;
    ``gate_features``: what the learned gate's :math:`u_n(x)` sees (``"none"``, the
    expert's ``"own"`` subset, or ``"all"`` features); ``intercept``: the towers'
    :math:`c_n`; ``steps`` minibatches of ``batch_size`` examples; ``optimizer``
    (``"adam"`` or ``"rmsprop"``), ``learning_rate`` and ``sigma2`` — ``None`` takes
    :func:`thesis_defaults` for the gate and ``item_dim`` (resolved: ``optimizer_``,
    ``learning_rate_``, ``sigma2_``).

    After :meth:`fit`: ``features_`` ``[N, s]`` the experts' feature subsets, ``pools_``
    (random gate) the partition of the arms, ``losses_`` ``[steps]`` the minibatch losses.

    >>> from recdyn import bandits
    >>> train, test = bandits.offline_split(bandits.synthetic_multilabel(3000, d=40,
    ...     n_arms=20), per_arm=100, n_test=1000)
    >>> moe = bandits.MixtureOfExperts(n_experts=4, n_features=10, item_dim=5, steps=200,
    ...     batch_size=512).fit(train)
    >>> moe.precision_recall(test)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        gate: Annotated[str, Options(("learned", "random"))] = "learned",
        n_experts: Annotated[int, Interval(Integral, 1, None)] = 10,
        n_features: Annotated[int, Interval(Integral, 1, None)] = 50,
        item_dim: Annotated[int, Interval(Integral, 1, None)] = 10,
        gate_features: Annotated[str, Options(("none", "own", "all"))] = "none",
        intercept: Annotated[bool, Boolean()] = True,
        steps: Annotated[int, Interval(Integral, 1, None)] = STEPS,
        batch_size: Annotated[int, Interval(Integral, 1, None)] = BATCH_SIZE,
        optimizer: Annotated[str | None, Options(("adam", "rmsprop")), None] = None,
        learning_rate: Annotated[
            float | None, Interval(Real, 0, None, closed="neither"), None
        ] = None,
        sigma2: Annotated[float | None, Interval(Real, 0, None, closed="neither"), None] = None,
        seed: Annotated[int, Seed()] = 0,
    ) -> None:
        defaults = thesis_defaults(self.gate, self.item_dim)
        self.optimizer_ = self.optimizer or defaults["optimizer"]
        self.learning_rate_ = self.learning_rate or defaults["learning_rate"]
        self.sigma2_ = self.sigma2 or defaults["sigma2"]
        self.module_: Any = None

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        train: OfflineExamples | OfflineSplit,
        *,
        callback: Callable[[int, MixtureOfExperts], None] | None = None,
    ) -> MixtureOfExperts:
        """Train on an :class:`OfflineExamples` (or the ``train`` of an
        :class:`OfflineSplit`) for ``steps`` minibatches; returns ``self``. ``callback(step,
        self)`` runs after each step (``step`` = steps done), e.g. to evaluate the model
        along the way (it must not draw from torch's global generator)."""
        torch = require_torch("MixtureOfExperts")
        if isinstance(train, OfflineSplit):
            train = train.train
        if not isinstance(train, OfflineExamples):
            raise InvalidParameterError(
                f"train must be an OfflineExamples or OfflineSplit (from offline_split), got "
                f"{type(train).__name__}"
            )
        dim, n_arms = train.dim, train.n_arms
        if self.n_features > dim:
            raise InvalidParameterError(
                f"n_features={self.n_features} exceeds the data's dim={dim}: n_features must "
                f"be in [1, {dim}]"
            )
        if self.n_experts > n_arms:
            raise InvalidParameterError(
                f"n_experts={self.n_experts} exceeds the data's {n_arms} arms: n_experts must "
                f"be in [1, {n_arms}] (a random pool would be empty)"
            )
        seed = self.seed
        self.features_ = random_features(
            generator(seed, "bandits", "moe", "features"), dim, self.n_experts, self.n_features
        )
        self.pools_ = (
            random_pools(generator(seed, "bandits", "moe", "pools"), n_arms, self.n_experts)
            if self.gate == "random"
            else None
        )
        init = torch_generator(generator(seed, "bandits", "moe", "init"))
        batches = torch_generator(generator(seed, "bandits", "moe", "batches"))
        self.dim_, self.n_arms_ = dim, n_arms
        module = _module_class()(
            self.features_, self.pools_, n_arms, dim, self.item_dim,
            self.gate == "learned", self.gate_features, self.intercept, init,
        )  # fmt: skip
        opt = _optimizer(torch, self.optimizer_, module.parameters(), self.learning_rate_)
        x = torch.as_tensor(train.features, dtype=torch.float32)
        rows = torch.empty((self.batch_size, dim))
        point = torch.as_tensor(train.point)
        arm = torch.as_tensor(train.arm)
        reward = torch.as_tensor(train.reward, dtype=torch.float32)
        losses = torch.empty(self.steps)
        self.module_, self.losses_ = module, losses.numpy()
        with seeded(int(generator(seed, "bandits", "moe", "global").integers(2**62))):
            for step in range(self.steps):
                idx = torch.randint(len(train), (self.batch_size,), generator=batches)
                torch.index_select(x, 0, point[idx], out=rows)  # into one buffer
                loss = module.loss(rows, arm[idx], reward[idx], self.sigma2_)
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
                losses[step] = loss.detach()
                if callback is not None:
                    callback(step + 1, self)
        return self

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self, features: Any) -> np.ndarray:
        if self.module_ is None:
            raise NotFittedError(f"{type(self).__name__} must be fitted before scoring")
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim_:
            raise InvalidParameterError(
                f"features must be [points, {self.dim_}] (the training data's dim), got {x.shape}"
            )
        return x

    def _chunks(self, features: Any):
        torch = require_torch("MixtureOfExperts")
        x = torch.as_tensor(self._check_fitted(features))
        with torch.no_grad():
            for start in range(0, len(x), _CHUNK):
                yield self.module_.experts_and_gate(x[start : start + _CHUNK])

    def predict(self, features: Any) -> np.ndarray:
        """The mixture mean :math:`\\sum_n p_n(x, a)\\hat r_n(x, a)` ``[m, A]`` of points
        ``features`` ``[m, d]`` — the ranking scores."""
        out = [(pred * log_p.exp()).sum(2).numpy() for pred, log_p in self._chunks(features)]
        return np.concatenate(out) if out else np.empty((0, self.n_arms_), np.float32)

    def gate_weights(self, features: Any) -> np.ndarray:
        """:math:`p_n(x, a)` ``[m, A, N]`` (random gate: the pool indicator)."""
        out = [log_p.exp().numpy() for _, log_p in self._chunks(features)]
        return np.concatenate(out)

    def expert_predictions(self, features: Any) -> np.ndarray:
        """:math:`\\hat r_n(x, a)` ``[m, A, N]``."""
        return np.concatenate([pred.numpy() for pred, _ in self._chunks(features)])

    def heldout_loss(self, test: OfflineTest | OfflineSplit) -> float:
        """The objective (mean negative log-likelihood) over every (point, arm) entry of
        ``test``."""
        torch = require_torch("MixtureOfExperts")
        test = test.test if isinstance(test, OfflineSplit) else test
        total = 0.0
        for i, (pred, log_p) in enumerate(self._chunks(test.features)):
            r = torch.as_tensor(test.labels[i * _CHUNK : (i + 1) * _CHUNK], dtype=torch.float32)
            ll = torch.logsumexp(log_p - (r[:, :, None] - pred) ** 2 / (2 * self.sigma2_), 2)
            total -= float(ll.sum(dtype=torch.float64))
        return total / test.labels.size

    def precision_recall(self, test: OfflineTest | OfflineSplit, k: int = 5) -> dict[str, float]:
        """Mean precision@k and recall@k over ``test``'s points, and their standard
        errors: ``{"precision", "recall", "precision_se", "recall_se"}``."""
        test = test.test if isinstance(test, OfflineSplit) else test
        if not isinstance(test, OfflineTest):
            raise InvalidParameterError(
                f"test must be an OfflineTest or OfflineSplit, got {type(test).__name__}"
            )
        if isinstance(k, bool) or not isinstance(k, Integral) or not 1 <= k <= test.n_arms:
            raise InvalidParameterError(
                f"k must be an integer in [1, {test.n_arms}] (the arms), got {k!r}"
            )
        p, r = precision_recall_at_k(self.predict(test.features), test.labels, k)
        n = len(p)
        return {
            "precision": float(p.mean()),
            "recall": float(r.mean()),
            "precision_se": float(p.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            "recall_se": float(r.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
        }
