r"""Fit a latent world to a real dataset: biased matrix factorisation, cached as ``.npz``.

:func:`fit_factors` fits

.. math:: \hat r_{ui} = \mu + b_u + b_i + p_u^\top q_i

to every rating of a dataset with one of recdyn's own recommenders (``mf-sgd``, the
default, or ``mf-als``; their hyperparameters are the recommender's defaults except
``n_factors = latent_dim`` and ``seed``) and returns the parameters as
:class:`FittedFactors`, the state of :class:`~recdyn.environments.fitted.
FittedLatentEnvironment`. RecLab fitted its ML-100K world with LibFM's SGD (reg 0.1, lr
0.005, 100 iterations, seed 0); ``mf-sgd`` is recdyn's SGD fit of the same model, with
defaults tuned on ML-100K (30 epochs, lr 0.015, reg 0.12).

**Play counts.** Last.fm 2K holds play counts, not ratings (``Dataset.implicit``).
:func:`plays_to_ratings` maps them onto the 1–5 scale first: the logarithm of the count,
scaled linearly so that its 5 % quantile goes to 1 and its 95 % quantile to 5, clipped to
[1, 5] (one global map, so a heavy listener's artists rate higher: the user bias keeps
the activity). On Last.fm 2K the ratings then have mean 3.20 and standard deviation 1.04
(ML-100K: 3.53 and 1.13); 5 % sit at each end.

**Cache.** A fit is deterministic given the data, the fitter, its hyperparameters and the
seed. It is written to ``platformdirs.user_cache_dir("recdyn")/worlds/`` as an ``.npz``
(plain arrays, read back with ``allow_pickle=False``; written to a temporary file and
renamed, so a killed fit leaves nothing half-written) whose name holds a SHA-256 of all
of these, the ratings included: another edition of a dataset, a changed default or another
seed is another file. An unreadable cache file is refitted and replaced. The dataset
itself is always loaded (to check that the cache belongs to it), so a world fails without
its data whether or not a fit is cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import numpy as np
import platformdirs

from recdyn import datasets
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.registry import load_entry_point

__all__ = [
    "DATASET_SCALES",
    "FITTERS",
    "FittedFactors",
    "dataset_ratings",
    "factor_cache_dir",
    "fit_factors",
    "plays_to_ratings",
]

#: The rating scale of the world fitted to each dataset (Last.fm: after
#: :func:`plays_to_ratings`); the datasets a world can be fitted to.
DATASET_SCALES = MappingProxyType(
    {
        "ml-100k": (1.0, 5.0),
        "ml-1m": (1.0, 5.0),
        "ml-latest-small": (0.5, 5.0),
        "lastfm-2k": (1.0, 5.0),
    }
)
#: The recommenders a world can be fitted with: their registered names and entry points
#: (loaded lazily, as every registry entry: the recommenders sit beside the environments,
#: and the recommender checks build environments).
FITTERS = MappingProxyType(
    {
        "mf-sgd": "recdyn.recommenders.mf_sgd:SGDMatrixFactorization",
        "mf-als": "recdyn.recommenders.mf_als:ALSMatrixFactorization",
    }
)
#: The quantiles of log play counts that :func:`plays_to_ratings` maps to 1 and 5.
PLAY_QUANTILES = (0.05, 0.95)
_FORMAT = 1  # bump when what is cached changes
_ARRAYS = ("user_bias", "item_bias", "user_factors", "item_factors")


@dataclass(frozen=True, eq=False)
class FittedFactors:
    """A biased MF model fitted to a dataset: :math:`\\mu` (``offset``), :math:`b_u`,
    :math:`b_i`, :math:`p_u`, :math:`q_i` (float64, read-only).

    ``rmse`` is the model's RMSE on the ratings it was fitted to (the residual standard
    deviation of the fit); ``fit_seconds`` the time the fit took (when it was made);
    ``source`` ``"fit"`` or ``"cache"``; ``path`` the cache file (``None`` without one).
    """

    dataset: str
    fitter: str
    seed: int
    offset: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    rmse: float
    n_ratings: int
    fit_seconds: float
    source: Literal["fit", "cache"]
    path: Path | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_bias)

    @property
    def n_items(self) -> int:
        return len(self.item_bias)

    @property
    def latent_dim(self) -> int:
        return self.user_factors.shape[1]

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """:math:`\\mu + b_u + b_i + p_u^\\top q_i` of the pairs ``(users[j], items[j])``."""
        dot = np.einsum("nd,nd->n", self.user_factors[users], self.item_factors[items])
        return self.offset + self.user_bias[users] + self.item_bias[items] + dot


def plays_to_ratings(
    plays: np.ndarray,
    quantiles: tuple[float, float] = PLAY_QUANTILES,
    scale: tuple[float, float] = (1.0, 5.0),
) -> np.ndarray:
    """Ratings on ``scale`` from play counts ``plays`` (> 0): ``log(plays)`` mapped linearly
    so that its ``quantiles`` land on the ends of ``scale``, clipped to ``scale``."""
    plays = np.asarray(plays, np.float64)
    if len(plays) == 0 or not (plays > 0).all():
        raise InvalidParameterError("plays must be a non-empty array of positive play counts")
    logs = np.log(plays)
    lo, hi = np.quantile(logs, quantiles)
    if hi <= lo:
        return np.full(len(plays), (scale[0] + scale[1]) / 2)
    return np.clip(scale[0] + (scale[1] - scale[0]) * (logs - lo) / (hi - lo), *scale)


def dataset_ratings(name: str) -> tuple[Interactions, int, int]:
    """The ratings of dataset ``name`` on its world's scale (:data:`DATASET_SCALES`; play
    counts through :func:`plays_to_ratings`) and its numbers of users and items.

    Raises :class:`~recdyn.datasets.DatasetError` when the dataset cannot be loaded (no
    ``RECDYN_DATA_DIR`` copy, no cached copy and no network), naming the dataset."""
    _check_dataset(name)
    ds = datasets.load(name)
    data = ds.interactions
    if ds.implicit:
        rating = plays_to_ratings(data.rating, scale=DATASET_SCALES[name])
        data = Interactions(data.user, data.item, rating, data.step)
    return data, ds.n_users, ds.n_items


def factor_cache_dir() -> Path:
    """Where fitted worlds are cached: ``platformdirs.user_cache_dir("recdyn")/worlds``."""
    return Path(platformdirs.user_cache_dir("recdyn")) / "worlds"


def fit_factors(
    dataset: str,
    latent_dim: int,
    *,
    fitter: str = "mf-sgd",
    seed: int = 0,
    cache_dir: str | os.PathLike[str] | Literal[False] | None = None,
) -> FittedFactors:
    """Biased MF with ``latent_dim`` factors fitted to every rating of ``dataset`` by the
    recommender ``fitter`` (``seed`` seeds it), read from the cache when it holds this fit.

    ``cache_dir``: ``None`` for :func:`factor_cache_dir`, a directory, or ``False`` (no
    cache). Raises :class:`~recdyn.datasets.DatasetError` when the dataset cannot be
    loaded, :class:`~recdyn.errors.InvalidParameterError` for an unknown dataset or fitter.
    """
    if fitter not in FITTERS:
        raise InvalidParameterError(f"fitter must be one of {tuple(FITTERS)}, got {fitter!r}")
    data, n_users, n_items = dataset_ratings(dataset)
    model = load_entry_point(FITTERS[fitter])(n_factors=latent_dim, seed=seed)
    key = _cache_key(dataset, model.get_params(), data)
    path = None
    if cache_dir is not False:
        folder = Path(cache_dir) if cache_dir is not None else factor_cache_dir()
        path = folder / f"{dataset}-{fitter}-d{latent_dim}-seed{seed}-{key[:16]}.npz"
        cached = _read(path, key)
        if cached is not None:
            return FittedFactors(dataset, fitter, seed, **cached, source="cache", path=path)
    start = time.perf_counter()
    model.fit(data, n_users, n_items)
    arrays = {
        "offset": float(model.global_mean_),
        "user_bias": model.user_bias_,
        "item_bias": model.item_bias_,
        "user_factors": model.user_factors_,
        "item_factors": model.item_factors_,
    }
    fields = _fields(arrays, time.perf_counter() - start, data)
    if path is not None:
        _write(path, key, fields)
    return FittedFactors(dataset, fitter, seed, **fields, source="fit", path=path)


# ----------------------------------------------------------------------------- helpers
def _check_dataset(name: str) -> None:
    if name not in DATASET_SCALES:
        raise InvalidParameterError(f"dataset must be one of {tuple(DATASET_SCALES)}, got {name!r}")


def _cache_key(dataset: str, params: dict, data: Interactions) -> str:
    h = hashlib.sha256()
    meta = {"format": _FORMAT, "dataset": dataset, "quantiles": PLAY_QUANTILES, **params}
    h.update(json.dumps(meta, sort_keys=True, default=repr).encode())
    for col in (data.user, data.item, data.rating):
        h.update(np.ascontiguousarray(col).tobytes())
    return h.hexdigest()


def _fields(arrays: dict, fit_seconds: float, data: Interactions) -> dict:
    """The :class:`FittedFactors` fields of fitted ``arrays``: float64, read-only, with the
    RMSE on ``data``."""
    out: dict = {"offset": float(arrays["offset"])}
    for name in _ARRAYS:
        a = np.array(arrays[name], dtype=np.float64)
        a.flags.writeable = False
        out[name] = a
    dot = np.einsum("nd,nd->n", out["user_factors"][data.user], out["item_factors"][data.item])
    pred = out["offset"] + out["user_bias"][data.user] + out["item_bias"][data.item] + dot
    out["rmse"] = float(np.sqrt(np.mean((pred - data.rating) ** 2)))
    out["n_ratings"] = len(data)
    out["fit_seconds"] = float(fit_seconds)
    return out


def _write(path: Path, key: str, fields: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scalars = {k: fields[k] for k in ("offset", "rmse", "n_ratings", "fit_seconds")}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                key=np.array(key),
                scalars=np.array(json.dumps(scalars)),
                **{name: fields[name] for name in _ARRAYS},
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read(path: Path, key: str) -> dict | None:
    """The cached fields of ``path`` if it holds the fit ``key``, else ``None``."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["key"]) != key:
                return None
            out = json.loads(str(f["scalars"]))
            for name in _ARRAYS:
                a = np.array(f[name], dtype=np.float64)
                a.flags.writeable = False
                out[name] = a
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None  # missing or unreadable: fit again (and replace it)
    out["n_ratings"] = int(out["n_ratings"])
    return out
