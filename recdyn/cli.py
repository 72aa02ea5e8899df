"""The ``recdyn`` command line: list presets and recommenders, run one simulation.

::

    recdyn envs [-v]
    recdyn recommenders
    recdyn simulate ENV [-r NAME] [--steps N] [--seed S] [--set KEY=VALUE …] [--out DIR]
    recdyn validate SPEC · recdyn run SPEC [--backend local|ray] [--workers N] [--out DIR]
    recdyn results DIR [--csv PATH]
    recdyn report DIR [--out DIR] [--smooth N]
    recdyn --version

Every :class:`~recdyn.errors.RecdynError` (a bad name, a parameter out of range …) is
reported as one line ``error: <message>`` on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

import recdyn
from recdyn.environments import environments
from recdyn.errors import InvalidParameterError, RecdynError
from recdyn.metrics.online import DEFAULT_METRICS, online_metrics
from recdyn.policies import policies
from recdyn.recommenders import recommenders
from recdyn.registry import Spec

app = typer.Typer(
    name="recdyn",
    help="recdyn — simulate the long-term dynamics of recommender systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

#: Parameters shown in their own columns of ``recdyn envs``.
_SIZE_KEYS = ("n_users", "n_items", "users_per_step", "n_initial_ratings")
#: Files written by ``recdyn simulate`` (``Trajectory.save`` + the plot).
_OUTPUT_FILES = ("metrics.parquet", "metrics.csv", "interactions.parquet", "info.json")


def _console(stderr: bool = False) -> Console:
    # Built per call so that test runners that swap sys.stdout/sys.stderr are honoured.
    return Console(stderr=stderr, highlight=False)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a :class:`RecdynError` into ``error: <message>`` (red, stderr) and exit 2."""
    try:
        yield
    except RecdynError as err:
        _console(stderr=True).print(
            Text(f"error: {err}", style="red"), soft_wrap=True, highlight=False
        )
        raise typer.Exit(code=2) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recdyn {recdyn.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """recdyn — simulate the long-term dynamics of recommender systems.

    Run `recdyn envs` to see the environment presets, `recdyn recommenders` for the
    models, and `recdyn simulate ENV` to run the recommend → observe → retrain loop.
    """


# ---------------------------------------------------------------------- formatting helpers
def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)


def _plain(text: str) -> str:
    """A docstring line without reStructuredText literal markers."""
    return text.replace("``", "")


def _class_defaults(spec: Spec) -> dict[str, Any]:
    return Spec(spec.name, spec.factory).parameters()


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except (TypeError, ValueError):  # e.g. arrays
        return True


# ---------------------------------------------------------------------- commands
@app.command("envs")
def list_environments(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show every parameter, not only the preset's.")
    ] = False,
) -> None:
    """List the registered environment presets.

    Shows each preset's size and the parameters it sets away from its class defaults.
    """
    table = Table(
        title="Environment presets",
        caption="recdyn.make(NAME, **overrides) · recdyn simulate NAME --set KEY=VALUE",
        title_justify="left",
        caption_justify="left",
        show_lines=True,
    )
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("size", no_wrap=True)
    table.add_column("what it models; " + ("all parameters" if verbose else "preset parameters"))
    for spec in environments:
        params = spec.parameters()
        defaults = _class_defaults(spec)
        size = (
            f"{_fmt(params['n_users'])} × {_fmt(params['n_items'])}\n"
            f"{_fmt(params['users_per_step'])} users/step\n"
            f"{_fmt(params['n_initial_ratings'])} initial"
        )
        shown = []
        for key, value in params.items():
            if key in _SIZE_KEYS:
                continue
            changed = key in spec.params and _differs(value, defaults.get(key, object()))
            if verbose or changed:
                style = "green" if changed else "dim"
                shown.append(Text(f"{key}={_fmt(value)}", style=style))
        cell = Text(_plain(spec.summary))
        if verbose:
            cell.append(f"\n{spec.factory.__name__}", style="dim italic")
        if shown:
            cell.append("\n")
            cell.append(Text("  " if verbose else "\n").join(shown))
        table.add_row(spec.name, size, cell)
    _console().print(table)


@app.command("recommenders")
def list_recommenders() -> None:
    """List the registered recommenders and their hyperparameters (with defaults)."""
    table = Table(title="Recommenders (simulate -r NAME --param KEY=VALUE)", title_justify="left")
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("what it does", ratio=3)
    table.add_column("hyperparameters (default)", ratio=2)
    for spec in recommenders:
        internal = {"env"} if getattr(spec.factory, "requires_environment", False) else set()
        params = {k: v for k, v in spec.parameters().items() if k not in internal}
        hyper = "\n".join(f"{k}={_fmt(v)}" for k, v in params.items()) or "—"
        table.add_row(spec.name, _plain(spec.summary), hyper)
    _console().print(table)


def _names(registry: Iterable[Spec]) -> str:
    return ", ".join(spec.name for spec in registry)


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
    steps: Annotated[int, typer.Option(help="Number of online steps.")] = 100,
    seed: Annotated[int, typer.Option(help="Root seed; same seed, same run.")] = 0,
    k: Annotated[int, typer.Option("--k", "-k", help="Slate size.")] = 1,
    retrain_every: Annotated[int, typer.Option(help="Steps between model updates.")] = 1,
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
        Path | None,
        typer.Option(help="Output directory. Default: runs/<env>-<recommender>-seed<seed>."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, summary or file list.")
    ] = False,
) -> None:
    """Run the recommend → observe → retrain loop on ENV and save its metrics.

    Writes metrics.parquet/.csv, interactions.parquet, info.json and metrics.png to --out.
    """
    with _user_errors():
        overrides = _parse_assignments(set_, "--set")
        hyper = _parse_assignments(param, "--param")
        environment = recdyn.make(env, **overrides)
        model = recommenders.make(recommender, **hyper)
        out_dir = out if out is not None else Path("runs") / f"{env}-{recommender}-seed{seed}"
        kwargs: dict[str, Any] = dict(
            steps=steps,
            seed=seed,
            k=k,
            retrain_every=retrain_every,
            metrics=tuple(metric) if metric else DEFAULT_METRICS,
        )
        if quiet:
            traj = recdyn.simulate(environment, model, policy, **kwargs)
        else:
            traj = _simulate_with_progress(environment, model, policy, recommender, env, kwargs)

        # simulate() names objects by class; record the registered names the user typed.
        traj.info["recommender"]["name"] = recommender
        traj.info["policy"]["name"] = policy
        traj.info["cli"] = {
            "env": env,
            "set": overrides,
            "recommender": recommender,
            "param": hyper,
            "policy": policy,
            **{key: kwargs[key] for key in ("steps", "seed", "k", "retrain_every")},
            "metric": list(kwargs["metrics"]),
        }
        traj.save(out_dir)
        traj.plot(out_dir / "metrics.png")

    if not quiet:
        console = _console()
        console.print(_summary_table(traj))
        summary = traj.summary()
        console.print(
            f"{int(summary['final_n_ratings']):,} ratings held at the end · "
            f"{summary['seconds']:.2f} s in the loop + "
            f"{traj.info.get('setup_seconds', 0):.2f} s set-up",
            style="dim",
            highlight=False,
        )
        console.print(f"Wrote to [bold]{out_dir}[/bold]/:", highlight=False)
        for name in (*_OUTPUT_FILES, "metrics.png"):
            console.print(f"  {out_dir / name}", markup=False, highlight=False)


@app.command("tune")
def tune_command(
    recommender: Annotated[
        str, typer.Argument(metavar="RECOMMENDER", help="Recommender name to tune.")
    ],
    grid: Annotated[
        list[str],
        typer.Option(
            metavar="KEY=V1,V2,...",
            help="A hyperparameter and its candidate values (repeatable), e.g. "
            "--grid k=10,50,250 --grid shrinkage=0,100. Values are read as JSON when they parse.",
        ),
    ],
    env: Annotated[
        str | None,
        typer.Option(metavar="PRESET", help="Tune on this environment's initial data."),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Tune on a dataset (ml-100k, ml-latest-small, …)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Environment override (repeatable)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(metavar="KEY=VALUE", help="Fixed hyperparameter (repeatable)."),
    ] = None,
    folds: Annotated[int, typer.Option(help="k of k-fold cross-validation.")] = 5,
    metric: Annotated[str, typer.Option(help="Selection metric (rmse, mae, ndcg@20, …).")] = "rmse",
    seed: Annotated[int, typer.Option(help="Seed of the folds (and of the environment).")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (-1: all).")] = 1,
    out: Annotated[Path | None, typer.Option(help="Write results.csv and best.json here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Grid-search RECOMMENDER's hyperparameters by k-fold cross-validation (thesis ch. 2:
    the configuration with the best mean CV metric on the initial data wins)."""
    from recdyn.evaluation import grid_search

    with _user_errors():
        if (env is None) == (dataset is None):
            raise InvalidParameterError("tune needs exactly one of --env PRESET or --dataset NAME")
        param_grid = {}
        for key, values in _parse_assignments(grid, "--grid").items():
            raw = values if isinstance(values, tuple) else (values,)
            if isinstance(values, str):
                raw = tuple(_parse_value(v.strip()) for v in values.split(","))
            param_grid[key] = list(raw)
        model = recommenders.make(recommender, **_parse_assignments(param, "--param"))
        if env is not None:
            data: Any = recdyn.make(env, **_parse_assignments(set_, "--set"))
            n_users = n_items = None
        else:
            ds = recdyn.datasets.load(dataset)
            data, n_users, n_items = ds.interactions, ds.n_users, ds.n_items
        result = grid_search(
            model,
            param_grid,
            data,
            n_users,
            n_items,
            folds=folds,
            metric=metric,
            seed=seed,
            n_jobs=jobs,
            progress=not quiet,
        )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            result.results.to_csv(out / "results.csv", index=False)
            best = {
                "recommender": recommender,
                "metric": metric,
                "score": result.best_score,
                "params": result.best_params,
            }
            (out / "best.json").write_text(json.dumps(best, indent=2, default=str))
        if quiet:
            return
        table = Table(title=f"{recommender}: {folds}-fold CV {metric}")
        for col in result.results.columns:
            table.add_column(str(col))
        for row in result.results.itertuples(index=False):
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else _fmt(v) for v in row))
        console = _console()
        console.print(table)
        console.print(f"best {metric} {result.best_score:.4f} with {result.best_params}")


def _simulate_with_progress(environment, model, policy, rec_name, env_name, kwargs):
    steps = kwargs["steps"]
    console = _console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # no bar in logs and pipes
    )
    first = kwargs["metrics"][0] if kwargs["metrics"] else None
    with progress:
        task = progress.add_task(f"{rec_name} on {env_name}", total=steps, status="")

        def on_step(step: int, row: dict[str, float]) -> None:
            status = f"{first} {row[first]:.3f}" if first and first in row else ""
            progress.update(task, completed=step, status=status)

        return recdyn.simulate(environment, model, policy, callback=on_step, **kwargs)


def _summary_table(traj: recdyn.Trajectory) -> Table:
    summary = traj.summary()
    table_ = traj.metrics
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
    for name in (c for c in table_.columns if c not in skip):
        col = table_[name]
        first = col.iloc[0] if len(col) else None
        last = col.iloc[-1] if len(col) else None
        table.add_row(name, num(summary[name]), num(first), num(last))
    return table


def _parse_assignments(items: list[str] | None, option: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}`` (values parsed as JSON when possible)."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise InvalidParameterError(
                f"{option} expects KEY=VALUE with KEY a parameter name, got {item!r}"
            )
        out[key] = _parse_value(raw.strip())
    return out


def _parse_value(raw: str) -> Any:
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return _tuples(value)


def _tuples(value: Any) -> Any:
    # JSON arrays become tuples: pair-valued parameters (ranges, probabilities) are tuples.
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


# ---------------------------------------------------------------------- experiments
@app.command("validate")
def validate_command(
    spec: Annotated[Path, typer.Argument(metavar="SPEC", help="Experiment spec (TOML).")],
) -> None:
    """Check an experiment spec without running it and print its task count."""
    from recdyn.experiments import load_spec, make_plan

    with _user_errors():
        plan = make_plan(load_spec(spec))
    _console().print(f"{spec}: valid — {plan.describe()}", soft_wrap=True)


@app.command("run")
def run_command(
    spec: Annotated[Path, typer.Argument(metavar="SPEC", help="Experiment spec (TOML).")],
    backend: Annotated[
        str, typer.Option(metavar="NAME", help="local (worker processes) or ray.")
    ] = "local",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", help="Worker processes (default: all cores; ignored with --address)."
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(metavar="ADDR", help="Join this Ray cluster (--backend ray), e.g. auto."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output directory. Default: runs/<experiment name>.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--force",
            help="--resume (default) skips finished tasks; --force moves earlier results "
            "to OUT/archive/ and starts over (needed after the spec changed).",
        ),
    ] = True,
    extend: Annotated[
        bool,
        typer.Option(
            "--extend",
            help="After a spec change, keep the finished tasks it leaves unchanged (e.g. "
            "more trials or recommenders) and run only the new ones.",
        ),
    ] = False,
    max_retries: Annotated[
        int, typer.Option(help="Re-runs of a task whose worker process or node died.")
    ] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Run every task of an experiment spec (resumable); print a summary table."""
    from recdyn.experiments import load_spec, make_plan, run_experiment
    from recdyn.experiments.console import print_results, reported_warnings

    console, err = _console(), _console(stderr=True)
    with _user_errors():
        plan = make_plan(load_spec(spec))
        if not quiet:
            console.print(f"{plan.spec.experiment.name}: {plan.describe()}", soft_wrap=True)
        try:
            with reported_warnings(err):
                result = run_experiment(
                    plan,
                    out,
                    backend=backend,
                    workers=workers,
                    address=address,
                    force=not resume,
                    extend=extend,
                    max_retries=max_retries,
                    progress=not quiet,
                    console=err,
                )
        except KeyboardInterrupt:
            err.print("interrupted: finished tasks are saved; run the same command to resume")
            raise typer.Exit(130) from None
    if not quiet:
        print_results(result.directory, console, err)
        console.print(
            f"{result.completed} tasks run now, {result.skipped} already done, "
            f"{len(result.failed)} failed → {result.directory}",
            highlight=False,
        )
    for task_id, error in list(result.failed.items())[:5]:
        err.print(Text(f"failed {task_id}: {error.splitlines()[0]}", style="red"), soft_wrap=True)
    if result.failed:
        raise typer.Exit(1)


@app.command("results")
def results_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Output of `recdyn run`.")],
    csv: Annotated[Path | None, typer.Option(help="Also write every row to this CSV.")] = None,
) -> None:
    """Load an experiment's results (one row per task and step) and print a summary."""
    from recdyn.experiments.console import print_results

    with _user_errors():
        results = print_results(directory, _console(), _console(stderr=True))
        if csv is not None:
            results.to_csv(csv, index=False)
            _console().print(f"wrote {len(results)} rows to {csv}", highlight=False)


@app.command("report")
def report_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Output of `recdyn run`.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write the report. Default: DIR/report.")
    ] = None,
    smooth: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Moving-average window (steps) of the time-series figures; 1 for none. "
            "Default: T // 50 for T steps.",
        ),
    ] = None,
) -> None:
    """Write PNG figures (95% CIs across trials) and one self-contained report.html."""
    from recdyn.experiments.console import reported_warnings
    from recdyn.experiments.report import build_report, console_table

    console = _console()
    with _user_errors(), reported_warnings(_console(stderr=True)):
        report = build_report(directory, out, smooth=smooth)
    console.print(console_table(report))
    console.print(
        f"{len(report.figures)} figures and the report in [bold]{report.path.parent}[/bold]/",
        highlight=False,
    )
    console.print(f"open {report.path}", markup=False, highlight=False, soft_wrap=True)


def _names_option(option: str, text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InvalidParameterError(f"{option} needs comma-separated names; got {text!r}")
    return names


def _trials_option(text: str) -> int | dict[str, int]:
    """``"10"`` → 10; ``"a=10,b=2"`` → ``{"a": 10, "b": 2}``."""
    try:
        if "=" not in text:
            return int(text)
        pairs = (item.split("=") for item in text.split(",") if item.strip())
        return {env.strip(): int(n) for env, n in pairs}
    except ValueError:
        raise InvalidParameterError(
            f"--trials must be a number or ENV=N pairs separated by commas; got {text!r}"
        ) from None


@app.command("study")
def study_command(
    name: Annotated[
        str | None,
        typer.Argument(metavar="NAME", help="Study to run; omit to list the built-in studies."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sizes: a few minutes on 2 cores.")
    ] = False,
    backend: Annotated[
        str, typer.Option(metavar="NAME", help="local (worker processes) or ray.")
    ] = "local",
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Worker processes (default: all cores).")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(metavar="ADDR", help="Join this Ray cluster (--backend ray), e.g. auto."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Root seed of the study.")] = 0,
    environments: Annotated[
        str | None,
        typer.Option(metavar="A,B", help="Only these environments (offline-vs-online)."),
    ] = None,
    recommenders: Annotated[
        str | None, typer.Option(metavar="A,B", help="Only these recommenders.")
    ] = None,
    trials: Annotated[
        str | None,
        typer.Option(
            metavar="N|ENV=N,…",
            help="Trials per environment (offline-vs-online): one number, or per "
            "environment, e.g. topics-dynamic-v1=10,topics-static-v1=2. A run with more "
            "trials than a finished one keeps its tasks and runs only the new ones.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory (resumable). Default: runs/<name>[-quick]."),
    ] = None,
    report_only: Annotated[
        bool,
        typer.Option(
            "--report-only",
            help="Run nothing: report the results already in --out, each environment with "
            "the trials every recommender has finished (offline-vs-online; safe while "
            "another run is growing an environment).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
) -> None:
    """Run a built-in study of the thesis (results, figures, findings, report.html)."""
    from recdyn.experiments.console import reported_warnings
    from recdyn.studies import studies

    console, err = _console(), _console(stderr=True)
    if name is None:
        table = Table("study", "what it reproduces", box=None)
        for spec in studies:
            table.add_row(spec.name, spec.summary)
        console.print(table)
        return
    with _user_errors():
        params: dict[str, Any] = {}
        if environments is not None:
            params["environments"] = _names_option("--environments", environments)
        if recommenders is not None:
            params["recommenders"] = _names_option("--recommenders", recommenders)
        if trials is not None:
            params["trials"] = _trials_option(trials)
        study = studies.make(name, quick=quick, seed=seed, **params)
        directory = out if out is not None else Path("runs") / (name + ("-quick" if quick else ""))
        if report_only and not hasattr(study, "report"):
            raise InvalidParameterError(f"--report-only: study {name!r} has no separate report")
        try:
            with reported_warnings(err):
                if report_only:
                    result = study.report(directory)
                else:
                    result = study.run(
                        directory,
                        backend=backend,
                        workers=workers,
                        address=address,
                        progress=not quiet,
                        console=err,
                    )
        except KeyboardInterrupt:
            err.print("interrupted: finished work is saved; run the same command to resume")
            raise typer.Exit(130) from None
    if not quiet:
        table = Table("claim", "measured", "verdict", box=None)
        verdict = {True: "[green]reproduced[/]", False: "[red]not reproduced[/]", None: "–"}
        for f in result.findings:
            table.add_row(f.claim, f.measured, verdict[f.reproduced])
        console.print(table)
        console.print(f"open {result.report}", markup=False, highlight=False, soft_wrap=True)


if __name__ == "__main__":  # pragma: no cover
    app()
