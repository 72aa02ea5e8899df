"""A world or a run that would not fit in memory fails before allocating, naming how much
it needs and which parameter to change (issue 22)."""

import pytest

import recdyn
from recdyn._memory import available_bytes, format_bytes, require_memory
from recdyn.errors import InsufficientMemoryError, RecdynError

BIG = dict(n_users=1_000_000, n_items=50_000, users_per_step=200_000)


def test_available_bytes_reads_the_override(monkeypatch):
    monkeypatch.setenv("RECDYN_MEMORY_BYTES", "123456789")
    assert available_bytes() == 123456789
    monkeypatch.delenv("RECDYN_MEMORY_BYTES")
    assert available_bytes() > 0


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(3 * 1024**3) == "3.0 GB"


def test_require_memory_names_the_largest_part(monkeypatch):
    monkeypatch.setenv("RECDYN_MEMORY_BYTES", "1000")
    with pytest.raises(InsufficientMemoryError, match=r"Reduce the largest \(knob_b\)"):
        require_memory("thing", {"a": (600, "knob_a"), "b": (900, "knob_b")})
    require_memory("thing", {"a": (400, "knob_a"), "b": (500, "knob_b")})  # fits


def test_reset_of_a_world_too_big_fails_before_allocating(monkeypatch):
    monkeypatch.setenv("RECDYN_MEMORY_BYTES", str(2**30))
    env = recdyn.make("topics-dynamic-v1", n_initial_ratings=100_000_000, **BIG)
    with pytest.raises(InsufficientMemoryError) as err:
        env.reset(seed=0)
    message = str(err.value)
    assert "n_initial_ratings" in message and "rated-pairs" in message and "GB" in message
    assert isinstance(err.value, RecdynError) and isinstance(err.value, MemoryError)
    with pytest.raises(recdyn.errors.NotResetError):  # nothing was set up
        env.online_users()


def test_biased_sampling_names_its_dense_matrix(monkeypatch):
    monkeypatch.setenv("RECDYN_MEMORY_BYTES", str(2**30))
    env = recdyn.make(
        "topics-dynamic-v1",
        n_users=100_000,
        n_items=20_000,
        n_initial_ratings=1000,
        initial_sampling="ml100k-init",
    )
    with pytest.raises(InsufficientMemoryError, match="initial_sampling"):
        env.reset(seed=0)


def test_simulate_names_the_metric_that_needs_dense_arrays(monkeypatch):
    monkeypatch.setenv("RECDYN_MEMORY_BYTES", str(2**30))
    env = recdyn.make("topics-dynamic-v1", n_initial_ratings=1000, **BIG)
    with pytest.raises(InsufficientMemoryError, match="recommendation_relevance"):
        recdyn.simulate(env, "toppop", steps=1, metrics=["recommendation_relevance"])
