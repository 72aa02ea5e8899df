"""benchmarks/scaling_model.py: the schedule model's arithmetic on a hand-made fixture."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "scaling_model.py"


@pytest.fixture(scope="module")
def sm():
    spec = importlib.util.spec_from_file_location("scaling_model", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scaling_model"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("scaling_model", None)


#: the fixture's laws: seconds = coefficient × work^exponent (work: online users or cells)
LAWS = {
    "env": (1e-6, "user", 1.0),
    "score": (1e-9, "cell", 1.0),
    "policy": (2e-9, "cell", 1.0),
    "metrics": (1e-10, "cell", 1.2),
    "update": (5e-6, "user", 1.0),
}
SIZES = {"1e3": (1_000, 1_700, 200, 100_000), "1e4": (10_000, 17_000, 2_000, 1_000_000)}


def result(size: str, rec: str = "toppop", params: str = "TopPop(prior_weight=1.0)") -> dict:
    users, items, online, ratings = SIZES[size]
    work = {"user": online, "cell": online * items}
    med = {c: a * work[k] ** b for c, (a, k, b) in LAWS.items()}
    return {
        "size": size,
        "recommender": rec,
        "params": params,
        "world": dict(n_users=users, n_items=items, online=online, initial_ratings=ratings),
        "median_s": {**med, "total": sum(med.values())},
        "rss_baseline_bytes": 250_000_000,
        "peak_rss_after_fit_bytes": 400_000_000,
        "peak_rss_bytes": 400_000_000 + 10 * online * items,  # 10 B per step cell
    }


@pytest.fixture
def fixture_json(tmp_path: Path) -> Path:
    results = [result(s) for s in SIZES]
    results.append({"size": "1e5", "recommender": "toppop", "error": "timeout"})
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"machine": {}, "results": results, "exponents": {}}))
    return path


def fits_of(sm, results):
    kinds = sm.rec_model("toppop", "", sm.World(*SIZES["1e4"])).work
    return {
        c: sm.fit([(sm.world_of(r).work(k), r["median_s"][c]) for r in results], k)
        for c, k in kinds.items()
    }


def test_fit_recovers_the_power_laws(sm):
    fits = fits_of(sm, [result(s) for s in SIZES])
    for c, (_, kind, b) in LAWS.items():
        assert fits[c].kind == kind
        assert fits[c].exponent == pytest.approx(b, rel=1e-9)
    # anchored at the largest world: the prediction there is the measurement
    world = sm.World(*SIZES["1e4"])
    f = fits["metrics"]
    assert f.t0 * (world.work("cell") / f.x0) ** f.exponent == pytest.approx(
        LAWS["metrics"][0] * world.work("cell") ** 1.2
    )
    # one measured size: exponent 1
    assert sm.fit([(10.0, 2.0)], "user") == sm.Fit("user", 1.0, 10.0, 2.0)


def test_perfect_split_at_w_workers(sm):
    fits = fits_of(sm, [result(s) for s in SIZES])
    world = sm.TARGETS["1e6"]
    model = sm.rec_model("toppop", "", world)
    a = sm.Assumptions(imbalance=False)
    one, comm1, _ = sm.predict(fits, model, world, 1, a)
    assert comm1 == 0.0  # one worker sends nothing
    assert one == pytest.approx(sum(a * world.work(k) ** b for a, k, b in LAWS.values()))
    for w in (8, 64, 512):  # toppop's step work is all per user or per cell: split W ways
        assert sm.predict(fits, model, world, w, a)[0] == pytest.approx(one / w)
    # with the straggler factor the split is worse than perfect, by 1 + √(2 ln W / (n/W))
    compute8 = sm.predict(fits, model, world, 8, sm.Assumptions())[0]
    g = 1 + math.sqrt(2 * math.log(8) / (world.online / 8))
    assert compute8 == pytest.approx(g * one / 8)


def test_replicated_item_work_does_not_shrink(sm):
    fits = fits_of(sm, [result(s) for s in SIZES])
    fits["update"] = sm.Fit("item", 3.0, 17_000, 50.0)  # an EASE-like re-inversion
    world = sm.TARGETS["1e6"]
    model = sm.rec_model("ease", "", world)
    a = sm.Assumptions(imbalance=False)
    update = 50.0 * (world.items / 17_000) ** 3
    computes = [sm.predict(fits, model, world, w, a)[0] for w in (1, 8, 64, 512)]
    assert all(c > update for c in computes)
    assert computes[-1] - update == pytest.approx((computes[0] - update) / 512)


def test_communication_term(sm):
    world = sm.World(1_000_000, 50_000, 200_000, 100_000_000)
    a = sm.Assumptions(alpha=50e-6, beta=1.25e9)
    toppop = sm.rec_model("toppop", "", world)
    for w in (8, 64, 512):
        lat, share = 50e-6 * math.log2(w), (w - 1) / w
        sums = lat + 2 * share * 16 * world.items / 1.25e9  # allreduce of sums + counts
        draw = lat + share * 12 * world.online / 1.25e9  # the online users' top keys
        assert sm.comm_seconds(toppop, world, w, a) == pytest.approx(sums + draw + 2 * lat)
    # ALS (f = 50, 2 partial iterations): normal equations of d = 51, float32
    als = sm.rec_model("mf-als", "ALSMatrixFactorization(n_factors=50, partial_iters=2)", world)
    assert [m.per_item for m in als.messages] == [(51 * 52 // 2 + 51 + 1) * 4, 51 * 4]
    assert [m.rounds for m in als.messages] == [2, 2]
    cg = sm.rec_model("mf-als", "ALSMatrixFactorization(partial_cg_steps=3)", world, "cg")
    assert [(m.per_item, m.volume, m.rounds) for m in cg.messages] == [(204, 2, 8)]
    assert cg.owned_per_item == 0 and als.owned_per_item == 5512


def test_monotone_in_w(sm):
    fits = fits_of(sm, [result(s) for s in SIZES])
    for name, world in sm.TARGETS.items():
        for rec in ("toppop", "mf-als", "item-knn", "ease"):
            model = sm.rec_model(rec, "", world)
            runs = [sm.predict(fits, model, world, w, sm.Assumptions()) for w in (1, 8, 64, 512)]
            compute, comm, memory = zip(*runs)
            assert list(compute) == sorted(compute, reverse=True), (name, rec)
            assert list(comm) == sorted(comm), (name, rec)  # more workers: more to send
            assert list(memory) == sorted(memory, reverse=True), (name, rec)


def test_memory_per_structure(sm):
    world = sm.World(100_000, 20_000, 20_000, 10_000_000)
    a = sm.Assumptions(cell_bytes=10.0, base=0.0)
    mem = sm.memory_bytes(sm.rec_model("toppop", "", world), world, 4, a)
    assert mem["rated bits"] == 25_000 * 2_504  # U / W × whole 64-bit words of m bits
    assert mem["logs"] == 2_500_000 * 32  # two logs of 16 B a row
    assert mem["step arrays"] == 10.0 * 5_000 * 20_000
    assert mem["item state"] == 20_000 * (8 + 20)  # replicated on every worker
    blocked = sm.Assumptions(cell_bytes=10.0, block_cells=2**26)
    capped = sm.memory_bytes(sm.rec_model("toppop", "", world), world, 4, blocked)
    assert capped["step arrays"] == 10.0 * 2**26
    ease = sm.memory_bytes(sm.rec_model("ease", "", world), world, 512, a)
    assert ease["item state"] == 20_000 * 8 + 20_000**2 * 36  # items² does not shard


def test_calibrate_and_cli(sm, fixture_json, capsys):
    results = [r for r in json.loads(fixture_json.read_text())["results"] if "median_s" in r]
    a = sm.calibrate(results, sm.Assumptions())
    assert a.cell_bytes == pytest.approx(10.0) and a.base == 250_000_000
    blocked = sm.calibrate(results, sm.Assumptions(block_cells=2_000_000))  # 2,000 × 17,000
    assert blocked.cell_bytes == pytest.approx(10.0 * 2_000 * 17_000 / 2_000_000)
    assert sm.main(["--json-in", str(fixture_json), "--workers", "8,64", "--targets", "1e6"]) == 0
    out = capsys.readouterr().out
    assert (
        "| toppop | user^1.00 | cell^1.00 | cell^1.00 | cell^1.20 | user^1.00 | 1e3, 1e4 |" in out
    )
    rows = [line for line in out.splitlines() if " u × " in line or line.startswith("| 〃")]
    assert [r.split(" | ")[2] for r in rows] == ["1", "8", "64"]
    assert "1.0×" in rows[0]
    sm.main(["--json-in", str(fixture_json), "--kind", "toppop.metrics=user", "--targets", "1e5"])
    assert "user^2.40" in capsys.readouterr().out  # cells^1.2: 100× cells per 10× users


def write(path: Path, results: list[dict]) -> str:
    path.write_text(json.dumps({"machine": {}, "results": results, "exponents": {}}))
    return str(path)


def test_merged_files_first_wins(sm, tmp_path, capsys):
    als = "ALSMatrixFactorization(n_factors=50, partial_iters=2)"
    slow = {**result("1e4"), "median_s": {c: 1.0 for c in (*LAWS, "total")}}
    first = write(tmp_path / "a.json", [
        result("1e3"), result("1e4"),
        {"size": "1e4", "recommender": "mf-als", "error": "exit -9"},
        {"size": "1e5", "recommender": "toppop", "error": "exit -9"},
    ])  # fmt: skip
    mf = [result(s, "mf-als", als) for s in SIZES]
    for r in mf:  # 30 B a rating and the factors above toppop's after-fit RSS
        w = r["world"]
        r["peak_rss_after_fit_bytes"] += 30 * w["initial_ratings"] + 204 * (
            w["n_users"] + w["n_items"]
        )
    second = write(tmp_path / "b.json", [slow, *mf])
    measured, missing = sm.load([first, second])
    assert [(r["size"], r["recommender"], r["source"]) for r in measured] == [
        ("1e3", "toppop", first), ("1e3", "mf-als", second),
        ("1e4", "toppop", first), ("1e4", "mf-als", second),
    ]  # fmt: skip
    assert measured[2]["median_s"] == result("1e4")["median_s"]  # the first file's
    assert [(r["size"], r["recommender"]) for r in missing] == [("1e5", "toppop")]
    a = sm.calibrate(measured, sm.Assumptions())
    assert a.als_rating_bytes == pytest.approx(30.0)
    assert sm.rec_model("mf-als", als, sm.TARGETS["1e6"], "normal", 30.0).per_rating == 30.0
    sm.main(["--json-in", first, second, "--targets", "1e5", "--workers", "8"])
    out = capsys.readouterr().out
    assert "Not measured: 1e5 toppop" in out and "MF-ALS 30.0 B per rating" in out
    # the measured-vs-model table: in sample the laws are exact; out of sample, marked
    assert "| 1e4 | toppop | yes | " in out and "+0% |" in out
    sm.main(["--json-in", first, second, "--fit-sizes", "1e3", "--targets", "1e5"])
    out = capsys.readouterr().out
    assert "| 1e4 | toppop | **no** | " in out and "| toppop | user^1.00 |" in out
