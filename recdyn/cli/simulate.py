"""``recdyn simulate``: one run of the recommend → observe → retrain loop, saved to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

import recdyn
from recdyn._paths import check_output_dir
from recdyn._progress import progress_bar
from recdyn.cli.assignments import parse_assignments
from recdyn.cli.core import app, console, user_errors
from recdyn.metrics.online import DEFAULT_METRICS, online_metrics
from recdyn.policies import policies
from recdyn.recommenders import recommenders
from recdyn.simulation import MAX_STEPS, Trajectory

#: Files written by ``recdyn simulate`` (``Trajectory.save`` + the plot).
OUTPUT_FILES = (
    "metrics.parquet",
    "metrics.csv",
    "interactions.parquet",
    "info.json",
    "metrics.png",
)


def _names(registry: Any) -> str:
    return ", ".join(spec.name for spec in registry)


def _policy_parameters() -> str:
    return "; ".join(
        f"{spec.name}: {', '.join(spec.parameters())}" for spec in policies if spec.parameters()
    )


@app.command("simulate")
def simulate_command(
    env: Annotated[
        str, typer.Argument(metavar="ENV", help="Environment preset name (see `recdyn envs`).")
    ],
    recommender: Annotated[
        str,
        typer.Option(
            "--recommender",
            "-r",
            metavar="NAME",
            help="Recommender name (see `recdyn recommenders`).",
        ),
    ] = "toppop",
    policy: Annotated[
        str, typer.Option(metavar="NAME", help=f"Selection policy: {_names(policies)}.")
    ] = "greedy",
    policy_param: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE",
            help="Policy parameter (repeatable), as --set, e.g. --policy softmax "
            f"--policy-param temperature=0.5. Parameters: {_policy_parameters()}.",
        ),
    ] = None,
    steps: Annotated[int, typer.Option(help=f"Number of online steps (0 to {MAX_STEPS:,}).")] = 100,
    seed: Annotated[int, typer.Option(help="Root seed; same seed, same run.")] = 0,
    k: Annotated[int, typer.Option("--k", "-k", help="Slate size.")] = 1,
    retrain_every: Annotated[int, typer.Option(help="Steps between model updates.")] = 1,
    training: Annotated[
        str,
        typer.Option(
            metavar="MODE",
            help="What the model trains on: feedback (the ratings of its recommendations) or "
            "uniform (as many uniformly drawn, never-recommended pairs: the shadow arm of "
            "the thesis's Definition 1; run both on one seed for the feedback effect).",
        ),
    ] = "feedback",
    metric: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help=f"Online metric (repeatable). Default: {', '.join(DEFAULT_METRICS)}. "
            f"Available: {_names(online_metrics)}.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Environment override (repeatable), e.g. --set n_users=100 --set noise=0.3. "
            "VALUE is read as JSON when it parses ([0.1, 0.5] is a pair), else as a string.",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE", help="Recommender hyperparameter (repeatable), as --set."
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            metavar="DIR",
            help="Output directory, new or existing. Default: runs/<env>-<recommender>-seed<seed>.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, summary or file list.")
    ] = False,
) -> None:
    """Run the recommend → observe → retrain loop on ENV and save its metrics.

    Writes metrics.parquet/.csv, interactions.parquet, info.json and metrics.png to --out.
    """
    with user_errors():
        overrides = parse_assignments(set_, "--set")
        hyper = parse_assignments(param, "--param")
        policy_params = parse_assignments(policy_param, "--policy-param")
        environment = recdyn.make(env, **overrides)
        model = recommenders.make(recommender, **hyper)
        selector = policies.make(policy, **policy_params)
        # Refuse an output path that cannot be written before the run, not after it.
        out_dir = check_output_dir(
            out if out is not None else Path("runs") / f"{env}-{recommender}-seed{seed}",
            "the trajectory",
        )
        kwargs: dict[str, Any] = dict(
            steps=steps,
            seed=seed,
            k=k,
            retrain_every=retrain_every,
            metrics=tuple(metric) if metric else DEFAULT_METRICS,
            training=training,
        )
        traj = _simulate(environment, model, selector, f"{recommender} on {env}", quiet, kwargs)

        # simulate() names objects by class; record the registered names the user typed.
        traj.info["recommender"]["name"] = recommender
        traj.info["policy"]["name"] = policy
        traj.info["cli"] = {
            "env": env,
            "set": overrides,
            "recommender": recommender,
            "param": hyper,
            "policy": policy,
            "policy_param": policy_params,
            **{key: kwargs[key] for key in ("steps", "seed", "k", "retrain_every", "training")},
            "metric": list(kwargs["metrics"]),
        }
        traj.save(out_dir)
        traj.plot(out_dir / "metrics.png")
    if not quiet:
        _print_summary(traj, out_dir)


def _simulate(
    environment: Any, model: Any, policy: Any, label: str, quiet: bool, kwargs: dict[str, Any]
) -> Trajectory:
    """``recdyn.simulate`` with a transient bar on a terminal's stderr showing the first
    metric's latest value."""
    bar = progress_bar(
        not quiet,
        kwargs["steps"],
        label,
        console(stderr=True),
        status=True,
        transient=True,
        terminal_only=True,
    )
    if bar is None:
        return recdyn.simulate(environment, model, policy, **kwargs)
    first = kwargs["metrics"][0] if kwargs["metrics"] else None

    def on_step(step: int, row: dict[str, float]) -> None:
        bar.update(step, f"{first} {row[first]:.3f}" if first in row else "")

    try:
        return recdyn.simulate(environment, model, policy, callback=on_step, **kwargs)
    finally:
        bar.stop()


def _print_summary(traj: Trajectory, out_dir: Path) -> None:
    out = console()
    out.print(_summary_table(traj))
    summary = traj.summary()
    out.print(
        f"{int(summary['final_n_ratings']):,} ratings held at the end · "
        f"{summary['seconds']:.2f} s in the loop + "
        f"{traj.info.get('setup_seconds', 0):.2f} s set-up",
        style="dim",
        highlight=False,
    )
    out.print(f"Wrote to [bold]{out_dir}[/bold]/:", highlight=False)
    shadow = ("training.parquet",) if traj.training is not None else ()
    for name in (*OUTPUT_FILES, *shadow):
        out.print(f"  {out_dir / name}", markup=False, highlight=False)


def _summary_table(traj: Trajectory) -> Table:
    summary = traj.summary()
    metrics = traj.metrics
    info = traj.info
    title = (
        f"{info['recommender']['name']} on {info['environment']['name']}: "
        f"{int(summary['steps'])} steps, seed {info['seed']}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("metric", style="cyan", no_wrap=True)
    table.add_column("mean", justify="right")
    table.add_column("first step", justify="right")
    table.add_column("last step", justify="right")

    def num(x: Any) -> str:
        return "—" if x is None or x != x else f"{x:.3f}"

    skip = {"step", "n_ratings", "seconds"}
    for name in (c for c in metrics.columns if c not in skip):
        col = metrics[name]
        first = col.iloc[0] if len(col) else None
        last = col.iloc[-1] if len(col) else None
        table.add_row(name, num(summary[name]), num(first), num(last))
    return table
