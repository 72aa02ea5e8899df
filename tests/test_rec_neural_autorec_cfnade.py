"""AutoRec and CF-NADE (torch extra): learning, determinism, warm starts, devices, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from recdyn.errors import InvalidParameterError, MissingDependencyError  # noqa: E402
from recdyn.interactions import Interactions  # noqa: E402
from recdyn.recommenders import make  # noqa: E402
from recdyn.recommenders.neural import CFNADE, AutoRec  # noqa: E402
from recdyn.recommenders.neural.runtime import require_torch  # noqa: E402
from recdyn.recommenders.neural.training import cosine_lr  # noqa: E402

N_USERS, N_ITEMS = 60, 50

# small, fast configurations; each fit takes well under a second
FAST = {
    "autorec": dict(hidden=32, n_epochs=60, batch_size=16, lr=1e-2, reg=1.0),
    "cf-nade": dict(hidden=32, n_epochs=40, batch_size=16, lr=1e-2, weight_decay=1e-4),
}
MODELS = list(FAST)


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny tensors: extra threads only add contention (and pytest-xdist runs in parallel)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def low_rank(seed: int = 0, density: float = 0.5) -> tuple[Interactions, Interactions]:
    """Integer 1–5 ratings of a rank-2 matrix with noise, split 80/20 at random."""
    rng = np.random.default_rng(seed)
    p, q = rng.normal(size=(N_USERS, 2)), rng.normal(size=(N_ITEMS, 2))
    true = np.clip(np.rint(3.0 + 0.9 * (p @ q.T) + rng.normal(0, 0.2, (N_USERS, N_ITEMS))), 1, 5)
    users, items = np.nonzero(rng.random((N_USERS, N_ITEMS)) < density)
    data = Interactions(users, items, true[users, items])
    test = rng.random(len(data)) < 0.2
    return data.select(~test), data.select(test)


def build(name: str, **params):
    return make(name, **{**FAST[name], "seed": 0, **params})


@pytest.mark.parametrize("name", MODELS)
def test_learns_a_low_rank_problem_better_than_the_global_mean(name):
    train, test = low_rank()
    rec = build(name).fit(train, N_USERS, N_ITEMS)
    rmse = np.sqrt(np.mean((rec.predict(test.user, test.item) - test.rating) ** 2))
    baseline = np.sqrt(np.mean((train.rating.mean() - test.rating) ** 2))
    assert rmse < 0.85 * baseline


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_scores_other_seed_other_scores(name):
    train, _ = low_rank()
    a = build(name, n_epochs=5).fit(train, N_USERS, N_ITEMS).score(np.arange(N_USERS))
    b = build(name, n_epochs=5).fit(train, N_USERS, N_ITEMS).score(np.arange(N_USERS))
    c = build(name, n_epochs=5, seed=1).fit(train, N_USERS, N_ITEMS).score(np.arange(N_USERS))
    assert a.dtype == np.float32 and a.shape == (N_USERS, N_ITEMS)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", MODELS)
def test_warm_partial_fit_continues_from_the_trained_weights(name):
    train, test = low_rank()
    rec = build(name, partial_epochs=2).fit(train, N_USERS, N_ITEMS)
    n = len(rec.loss_history_)
    first, last = rec.loss_history_[0], rec.loss_history_[-1]
    before = rec.score(np.arange(N_USERS))
    rec.partial_fit(test)
    assert len(rec.loss_history_) == n + 2
    # a restart would begin near the untrained loss; continuing stays near the trained one
    assert max(rec.loss_history_[n:]) < last + 0.25 * (first - last)
    assert not np.array_equal(rec.score(np.arange(N_USERS)), before)


@pytest.mark.parametrize("name", MODELS)
def test_partial_fit_without_warm_start_refits_from_scratch(name):
    train, test = low_rank()
    rec = build(name, warm_start=False).fit(train, N_USERS, N_ITEMS).partial_fit(test)
    assert len(rec.loss_history_) == FAST[name]["n_epochs"]
    everything = Interactions.concat([train, test])
    fresh = build(name).fit(everything, N_USERS, N_ITEMS)
    np.testing.assert_array_equal(rec.score(np.arange(N_USERS)), fresh.score(np.arange(N_USERS)))


@pytest.mark.parametrize("name", MODELS)
def test_partial_fit_with_zero_epochs_still_uses_the_new_ratings(name):
    train, _ = low_rank()
    rec = build(name, partial_epochs=0).fit(train, N_USERS, N_ITEMS)
    before = rec.score([0])[0]
    params = {k: v.detach().clone() for k, v in rec._params.items()}
    item = int(np.argmin(before))
    rec.partial_fit(Interactions([0], [item], [5.0]))
    assert all(torch.equal(params[k], v) for k, v in rec._params.items())  # no training
    assert rec.score([0])[0][item] != before[item]


def test_learning_rate_anneals_during_fit_and_stays_low_in_partial_fit():
    assert cosine_lr(1e-3, 0.1, 0, 10) == pytest.approx(1e-3)
    assert cosine_lr(1e-3, 0.1, 9, 10) == pytest.approx(1e-4)
    assert 1e-4 < cosine_lr(1e-3, 0.1, 5, 10) < 1e-3
    train, test = low_rank()
    rec = build("cf-nade", lr_decay=0.1, partial_epochs=1).fit(train, N_USERS, N_ITEMS)
    lr = FAST["cf-nade"]["lr"]
    assert rec._optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * lr)
    rec.partial_fit(test)
    assert rec._optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * lr)


@pytest.mark.parametrize("name", MODELS)
def test_a_user_new_in_partial_fit_waits_for_training_before_being_personalised(name):
    train, _ = low_rank()
    old, new = train.select(train.user != 7), train.select(train.user == 7)
    rec = build(name, partial_epochs=0).fit(old, N_USERS, N_ITEMS).partial_fit(new)
    mean = rec.global_mean_
    np.testing.assert_allclose(rec.score([7])[0], mean, rtol=1e-6)  # not untrained noise
    rec.set_params(partial_epochs=1).partial_fit(new.select([0]))
    assert np.abs(rec.score([7])[0] - mean).max() > 1e-3


@pytest.mark.parametrize("name", MODELS)
def test_early_stopping_stops_and_keeps_the_best_epoch(name):
    train, _ = low_rank(density=0.3)
    rec = build(name, n_epochs=300, validation_fraction=0.2, patience=5)
    rec.fit(train, N_USERS, N_ITEMS)
    assert len(rec.loss_history_) < 300
    assert len(rec.val_loss_history_) == len(rec.loss_history_)
    assert rec.val_loss_history_[rec.best_epoch_] == min(rec.val_loss_history_)


def test_autorec_clamps_predictions_and_scores_unseen_users_at_the_mean():
    train, _ = low_rank()
    train = train.select(train.user != 7)  # user 7 has no rating
    rec = build("autorec", n_epochs=5).fit(train, N_USERS, N_ITEMS)
    users = np.repeat(np.arange(N_USERS), N_ITEMS)
    items = np.tile(np.arange(N_ITEMS), N_USERS)
    pred = rec.predict(users, items)
    assert pred.min() >= 1.0 and pred.max() <= 5.0
    np.testing.assert_allclose(rec.score([7])[0], train.rating.mean(), rtol=1e-6)


def test_cfnade_maps_non_integer_ratings_to_levels_and_back():
    train, test = low_rank()
    shift = Interactions(train.user, train.item, 10.0 + 2.5 * (train.rating - 1))  # 10..20
    rec = build("cf-nade").fit(shift, N_USERS, N_ITEMS)
    pred = rec.predict(test.user, test.item)
    assert pred.min() >= 10.0 and pred.max() <= 20.0
    rmse = np.sqrt(np.mean((pred - (10.0 + 2.5 * (test.rating - 1))) ** 2))
    assert rmse < 0.85 * np.sqrt(np.mean((shift.rating.mean() - 10 - 2.5 * (test.rating - 1)) ** 2))


def test_cfnade_user_orientation_learns_too():
    train, test = low_rank()
    rec = build("cf-nade", orientation="user").fit(train, N_USERS, N_ITEMS)
    rmse = np.sqrt(np.mean((rec.predict(test.user, test.item) - test.rating) ** 2))
    assert rmse < 0.85 * np.sqrt(np.mean((train.rating.mean() - test.rating) ** 2))


@pytest.mark.parametrize("name", MODELS)
def test_devices(name):
    train, _ = low_rank()
    assert build(name, n_epochs=1, device="cpu").fit(train, N_USERS, N_ITEMS).device_.type == "cpu"
    with pytest.raises(InvalidParameterError, match="device"):
        build(name, device="gpu")
    if torch.cuda.is_available():
        rec = build(name, n_epochs=1, device="cuda").fit(train, N_USERS, N_ITEMS)
        assert rec.device_.type == "cuda"
        assert rec.score([0]).dtype == np.float32
    else:
        with pytest.raises(InvalidParameterError, match=r"no CUDA GPU.*device='auto'"):
            build(name, device="cuda").fit(train, N_USERS, N_ITEMS)
        rec = build(name, n_epochs=1, device="auto").fit(train, N_USERS, N_ITEMS)
        assert rec.device_.type == "cpu"


@pytest.mark.parametrize("name", MODELS)
def test_bad_input_gives_clear_errors(name):
    train, _ = low_rank()
    with pytest.raises(InvalidParameterError, match="at least one rating"):
        build(name).fit(Interactions.empty(), N_USERS, N_ITEMS)
    with pytest.raises(InvalidParameterError, match="NaN"):
        Interactions([0], [0], [np.nan])
    rec = build(name, n_epochs=1).fit(train, N_USERS, N_ITEMS)
    with pytest.raises(InvalidParameterError, match=f"users holds id {N_USERS}"):
        rec.predict([N_USERS], [0])
    with pytest.raises(InvalidParameterError, match="outside the valid range"):
        rec.score([-1])
    with pytest.raises(InvalidParameterError, match="partial_epochs"):
        build(name, partial_epochs=-1)


@pytest.mark.parametrize("partial_rows", ["touched", "all"])
def test_cfnade_warm_partial_fit_trains_the_touched_rows_or_all(partial_rows):
    train, _ = low_rank()
    # no fit epochs (Adam has no momentum yet) and no weight decay: a column's weights
    # W, V move only if a trained row has a rating in that column
    rec = build("cf-nade", n_epochs=0, weight_decay=0.0, partial_rows=partial_rows)
    rec.fit(train, N_USERS, N_ITEMS)
    before = {k: rec._params[k].detach().clone() for k in ("W", "V")}
    new = train.select(train.item == 0).select(np.arange(2))  # I-CF-NADE: item 0 is a row
    rec.partial_fit(new)
    moved = np.zeros(N_USERS, bool)
    for k, old in before.items():
        moved |= (rec._params[k] != old).any(dim=(0, 2)).numpy()  # per column (user)
    raters = np.isin(np.arange(N_USERS), train.user[train.item == 0])
    if partial_rows == "touched":
        np.testing.assert_array_equal(moved, raters)
    else:
        np.testing.assert_array_equal(moved, np.isin(np.arange(N_USERS), train.user))
    with pytest.raises(InvalidParameterError, match="partial_rows"):
        build("cf-nade", partial_rows="some")


def test_cfnade_rejects_a_bad_rating_range():
    with pytest.raises(InvalidParameterError, match="rating_range"):
        CFNADE(rating_range=(5, 1))
    with pytest.raises(InvalidParameterError, match="rating_range"):
        CFNADE(rating_range=3)


@pytest.mark.parametrize("name", MODELS)
def test_check_recommender(name):
    checker = pytest.importorskip("recdyn.recommenders.checker")
    checker.check_recommender(build(name, hidden=16, n_epochs=5))


def test_progress_bar_only_when_verbose_and_never_in_partial_fit(capsys):
    train, _ = low_rank()
    build("autorec", n_epochs=3).fit(train, N_USERS, N_ITEMS)
    assert capsys.readouterr().out == ""
    rec = build("autorec", n_epochs=3, verbose=True).fit(train, N_USERS, N_ITEMS)
    assert "AutoRec" in capsys.readouterr().out
    rec.partial_fit(train)  # as simulate does at every step: no bar
    assert capsys.readouterr().out == ""


def test_missing_torch_is_a_clear_recdyn_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(MissingDependencyError, match=r'pip install "recdyn\[torch\]"'):
        require_torch()
    with pytest.raises(MissingDependencyError, match=r"recdyn\[torch\]"):
        make("autorec")
    with pytest.raises(MissingDependencyError, match=r"recdyn\[torch\]"):
        CFNADE()


def test_importing_recdyn_does_not_import_torch():
    code = (
        "import sys, recdyn, recdyn.recommenders as r; "
        "assert {'autorec', 'cf-nade'} <= set(r.recommenders.names()); "
        "assert 'hidden' in r.recommenders.spec('autorec').parameters(); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_classes_are_exported_lazily():
    assert make("autorec").__class__ is AutoRec
    assert make("cf-nade").__class__ is CFNADE
