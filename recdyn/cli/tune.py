"""``recdyn tune``: grid search of a recommender's hyperparameters by cross-validation."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

import recdyn
from recdyn._paths import check_output_dir
from recdyn.cli.assignments import parse_assignments, parse_grid
from recdyn.cli.core import app, console, user_errors
from recdyn.cli.formatting import fmt
from recdyn.errors import InvalidParameterError
from recdyn.recommenders import recommenders


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
    out: Annotated[
        str | None, typer.Option(metavar="DIR", help="Write results.csv and best.json here.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Grid-search RECOMMENDER's hyperparameters by k-fold cross-validation.

    As in the thesis (ch. 2), the configuration with the best mean CV metric on the
    initial data wins.
    """
    from recdyn.evaluation import grid_search

    with user_errors():
        if (env is None) == (dataset is None):
            raise InvalidParameterError("tune needs exactly one of --env PRESET or --dataset NAME")
        # an unwritable --out is refused before the search, not after it
        out_dir = None if out is None else check_output_dir(out, "the tuning results")
        param_grid = parse_grid(grid, "--grid")
        model = recommenders.make(recommender, **parse_assignments(param, "--param"))
        if env is not None:
            data: Any = recdyn.make(env, **parse_assignments(set_, "--set"))
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
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            result.results.to_csv(out_dir / "results.csv", index=False)
            best = {
                "recommender": recommender,
                "metric": metric,
                "score": result.best_score,
                "params": result.best_params,
            }
            (out_dir / "best.json").write_text(json.dumps(best, indent=2, default=str))
    if quiet:
        return
    table = Table(title=f"{recommender}: {folds}-fold CV {metric}")
    for col in result.results.columns:
        table.add_column(str(col))
    for row in result.results.itertuples(index=False):
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else fmt(v) for v in row))
    stdout = console()
    stdout.print(table)
    stdout.print(f"best {metric} {result.best_score:.4f} with {result.best_params}")
