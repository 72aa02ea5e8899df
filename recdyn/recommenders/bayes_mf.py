"""Bayesian matrix factorisation by Gibbs sampling, through ``myfm``."""

from __future__ import annotations

from numbers import Integral
from typing import Annotated, Any

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Interval, Truthy
from recdyn.errors import InvalidParameterError, MissingDependencyError
from recdyn.interactions import Interactions
from recdyn.recommenders.factors import BiasedFactorModel


class BayesianMatrixFactorization(BiasedFactorModel):
    r"""Bayesian biased matrix factorisation: a factorisation machine over one-hot user ⊕
    one-hot item features, sampled by MCMC (Rendle 2013, "Scaling factorization machines
    to relational data"; Freudenthaler, Schmidt-Thieme & Rendle 2011), via ``myfm``.

    .. math::

        r_{ui} \sim \mathcal N(w_0 + w_u + w_i + v_u^\top v_i,\; \alpha^{-1}), \quad
        w_j \sim \mathcal N(\mu_w^{g}, 1/\lambda_w^{g}), \quad
        v_{j} \sim \mathcal N(\mu_v^{g}, \operatorname{diag}(1/\lambda_v^{g}))

    with Gamma / Normal–Gamma hyperpriors, all sampled by Gibbs sampling (the RecLab
    thesis's "Bayes MF", there with libFM's MCMC and 200 iterations). With ``grouping``
    (default) users and items have separate hyperparameters :math:`g`. The prediction is
    the posterior mean over the kept samples :math:`s = 1..S`,

    .. math::

        \hat r_{ui} = \bar w_0 + \bar w_u + \bar w_i
          + \tfrac{1}{S} \textstyle\sum_s v_u^{(s)\top} v_i^{(s)}
          = \bar w_0 + \bar w_u + \bar w_i + [v_u^{(1)} \dots v_u^{(S)}]
            \,[v_i^{(1)} \dots v_i^{(S)}]^\top / S,

    so ``score`` is one matrix product with the ``S·rank`` stacked factors (memory
    ``S·rank·(n_users+n_items)`` floats). MCMC cannot warm-start here, so ``partial_fit``
    refits on all data seen so far (seconds per call on 100k ratings).

    Requires ``myfm`` (``pip install recdyn[bayes]``).

    Parameters
    ----------
    rank : latent dimension (default 10). n_iter : Gibbs sweeps (default 200, the thesis's).
    n_kept_samples : samples averaged for predictions; ``None`` keeps the last
        ``n_iter - 5`` (myfm's default burn-in of 5).
    init_std : standard deviation of the initial factors (default 0.1).
    grouping : separate priors for users and items (default ``True``).
    clip : clip ``predict`` to the range of the training ratings (``score`` is unclipped).
    seed : int or None; myfm's seed is drawn from it.

    Attributes
    ----------
    global_bias_ : :math:`\bar w_0`. user_bias_, item_bias_ : :math:`\bar w_u, \bar w_i`.
    user_factors_, item_factors_ : the stacked samples :math:`[v^{(1)} \dots v^{(S)}]`
        (the items' divided by :math:`S`), read-only views ``[n, S * rank]``:
        the embeddings whose inner product is the posterior-mean interaction
        (:class:`~recdyn.recommenders.factors.FactorEmbeddings`). n_samples_ : :math:`S`.
    """

    _global_term = "global_bias_"

    def __init__(
        self,
        *,
        rank: Annotated[int, Interval(Integral, 1, None)] = 10,
        n_iter: Annotated[int, Interval(Integral, 1, None)] = 200,
        # at most n_iter: _check_params
        n_kept_samples: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        grouping: Annotated[bool, Truthy()] = True,
        **inherited: Any,  # init_std, clip, seed: BiasedFactorModel's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _check_params(self) -> None:
        if self.n_kept_samples is not None and self.n_kept_samples > self.n_iter:
            raise InvalidParameterError(
                f"n_kept_samples must be in [1, {self.n_iter}] (at most n_iter), "
                f"got {self.n_kept_samples!r}"
            )

    def _fit(self, data: Interactions) -> None:
        core = _import_myfm()
        rng = np.random.default_rng(self.seed)
        nu, ni = self.n_users_, self.n_items_
        kept = self.n_kept_samples or min(max(self.n_iter - 5, 5), self.n_iter)
        config = core.ConfigBuilder()
        for key, value in dict(
            alpha_0=1.0, beta_0=1.0, gamma_0=1.0, mu_0=0.0, reg_0=1.0, fit_w0=True, fit_linear=True
        ).items():
            getattr(config, f"set_{key}")(value)
        if self.grouping:
            config.set_group_index([0] * nu + [1] * ni)
        else:
            config.set_identical_groups(nu + ni)
        config.set_n_iter(self.n_iter)
        config.set_n_kept_samples(kept)
        config.set_task_type(core.TaskType.REGRESSION)
        # myfm's trainer directly: its sklearn-style fit() adds only a tqdm progress bar
        predictor, _ = core.create_train_fm(
            self.rank,
            self.init_std,
            _one_hot(data, nu, ni),
            [],
            data.rating.astype(np.float64),
            int(rng.integers(2**31 - 1)),
            config.build(),
            lambda *_: False,
        )
        samples = predictor.samples
        s = len(samples)
        self.global_bias_ = float(np.mean([fm.w0 for fm in samples]))
        w = np.mean([fm.w for fm in samples], axis=0)
        self.user_bias_ = w[:nu].astype(np.float32)
        self.item_bias_ = w[nu:].astype(np.float32)
        v = np.concatenate([fm.V for fm in samples], axis=1)
        self.user_factors_ = v[:nu].astype(np.float32)
        self.item_factors_ = (v[nu:] / s).astype(np.float32)
        self.n_samples_ = s
        self._rating_range = (
            (float(data.rating.min()), float(data.rating.max())) if len(data) else None
        )


def _one_hot(data: Interactions, n_users: int, n_items: int) -> sp.csr_matrix:
    """``[len(data), n_users + n_items]``: a 1 in the user's and in the item's column."""
    n = len(data)
    cols = np.stack([data.user.astype(np.int64), n_users + data.item.astype(np.int64)], axis=1)
    return sp.csr_matrix(
        (np.ones(2 * n), cols.ravel(), np.arange(0, 2 * n + 1, 2)),
        shape=(n, n_users + n_items),
    )


def _import_myfm() -> Any:
    try:
        from myfm import _myfm
    except ImportError as err:
        raise MissingDependencyError(
            f"BayesianMatrixFactorization ('bayes-mf') needs the optional dependency myfm, "
            f"which could not be imported ({err}): pip install 'recdyn[bayes]'"
        ) from None
    return _myfm
