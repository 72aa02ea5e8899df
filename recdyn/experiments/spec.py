"""The experiment spec: one TOML file describing a study, validated by pydantic.

::

    [experiment]
    name = "quick"            # output goes to runs/<name> by default
    seed = 0                  # root seed; every task's seed is derived from it by name
    steps = 20                # online steps per run
    trials = 2                # seeds per (environment, recommender, policy) cell
    # retrain_every = 1, k = 1, metrics = ["mean_rating", "regret", "rmse"],
    # save_interactions = false, initial_state = "shared" | "per-trial", imports = []
    # training = "feedback" | "uniform"      # "uniform": the shadow arm (thesis ch. 3)
    # heldout = { n_pairs = 100000, every = 100, metrics = ["rmse", "ndcg@20"] }
    # a metric with parameters: { name = "homogenization", params = { every = 100 } }

    [[environments]]
    preset = "topics-dynamic-v1"
    overrides = { n_users = 60, n_items = 80 }   # constructor arguments of the preset
    # name = "topics-small"   # label; needed when one preset appears twice
    # seed_name = "topics"    # share initial state and dynamics seeds with other entries

    [[recommenders]]
    name = "mf-sgd"
    params = { n_factors = 8 }                   # fixed hyperparameters
    grid = { reg = [0.05, 0.1] }                 # expanded: one online config per value

    [[policies]]                                 # default: one greedy policy
    name = "greedy"

    [tuning]                                     # optional: thesis ch. 2 offline tuning
    folds = 5
    metric = "rmse"                              # selection metric
    metrics = ["rmse", "ndcg@20"]                # reported as offline_<metric> columns
    grid = { item-knn = { k = [10, 40, 250] } }  # per recommender name

Every table forbids unknown keys. :func:`load_spec` reports every problem at once, each
line naming the key path (``recommenders[1].grid.k``), the bad value and the valid choices;
names of presets, recommenders, policies and metrics are checked against the registries
(with did-you-mean), and environment overrides and hyperparameters are checked by
constructing the objects.

Thesis ch. 3 options (``[experiment]``): ``training = "uniform"`` trains each recommender
on the shadow-uniform arm instead of its own recommendations (``simulate(training=…)``,
:mod:`recdyn.shadow`; thesis Definition 1, L1903–1955); ``heldout`` holds out pairs that
are never recommended and scores them every ``every`` steps (``simulate(heldout=
HeldOut(…))``, :mod:`recdyn.heldout`; L1959–1985), giving ``heldout_<metric>`` columns.
Both are part of a task's id; left at their defaults (``"feedback"``, no held-out pairs)
they are left out of the canonical spec, so specs written before they existed keep their
hash and task ids. An online metric with parameters is a table ``{ name, params }``
(``{ name = "homogenization", params = { every = 100 } }``); its column is its name.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from recdyn.errors import RecdynError, SpecError
from recdyn.experiments.canonical import canonical_json, policy_label, tuples
from recdyn.experiments.spec_checks import check
from recdyn.experiments.toml_io import dump_toml, parse_toml
from recdyn.metrics.online import DEFAULT_METRICS

__all__ = [
    "ExperimentSpec",
    "HeldOutSection",
    "MetricEntry",
    "SpecError",
    "canonical_json",
    "dump_toml",
    "load_spec",
    "parse_toml",
    "policy_label",
    "spec_hash",
    "tuples",
]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


def _registered(kind: str) -> Any:
    """A validator: ``name`` must be registered in the ``kind`` registry (did-you-mean)."""

    def check(name: str) -> str:
        from recdyn.environments import environments
        from recdyn.metrics.online import online_metrics
        from recdyn.policies import policies
        from recdyn.recommenders import recommenders

        registry = {
            "environment": environments,
            "recommender": recommenders,
            "policy": policies,
            "online metric": online_metrics,
        }[kind]
        try:
            registry.spec(name)
        except RecdynError as err:
            raise ValueError(str(err)) from None
        if kind == "online metric" and name == "n_ratings":
            raise ValueError(
                "'n_ratings' clashes with the cumulative n_ratings column every result has; "
                "use 'distinct_items' or drop it"
            )
        return name

    return AfterValidator(check)


def _offline(name: str) -> str:
    from recdyn.metrics import make_offline_metric

    try:
        make_offline_metric(name)
    except RecdynError as err:
        raise ValueError(str(err)) from None
    return name


PresetName = Annotated[str, _registered("environment")]
RecommenderName = Annotated[str, _registered("recommender")]
PolicyName = Annotated[str, _registered("policy")]
OnlineMetricName = Annotated[str, _registered("online metric")]
OfflineMetricName = Annotated[str, AfterValidator(_offline)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MetricEntry(_Model):
    """An online metric with parameters: ``{ name = "homogenization", params = { every =
    100 } }`` (``simulate`` gets ``online_metrics.make(name, **params)``)."""

    name: OnlineMetricName
    params: dict[str, Any] = Field(default_factory=dict)


def _metric_kind(value: Any) -> str:
    return "<name>" if isinstance(value, str) else "<table>"


#: An entry of ``[experiment] metrics``: a name, or a :class:`MetricEntry` table. (The
#: ``<…>`` tags are left out of the key paths of error messages.)
MetricItem = Annotated[
    Annotated[OnlineMetricName, Tag("<name>")] | Annotated[MetricEntry, Tag("<table>")],
    Discriminator(_metric_kind),
]


class HeldOutSection(_Model):
    """``[experiment] heldout``: pairs never recommended nor trained on, scored every
    ``every`` steps (:class:`recdyn.heldout.HeldOut`, thesis L1959–1985; its defaults)."""

    #: default: min(100,000, 10 % of the pairs not in the initial data)
    n_pairs: int | None = Field(None, ge=1)
    every: int = Field(10, ge=1)
    metrics: list[OfflineMetricName] = Field(
        default_factory=lambda: ["rmse", "ndcg@20"], min_length=1
    )
    truth: Literal["true", "observed"] = "true"

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :class:`~recdyn.heldout.HeldOut`."""
        return self.model_dump(mode="json")


class ExperimentSection(_Model):
    """``[experiment]``: what every task shares."""

    name: str = Field(pattern=_NAME)
    seed: int = Field(0, ge=0)
    steps: int = Field(ge=1)
    retrain_every: int = Field(1, ge=1)
    k: int = Field(1, ge=1)
    metrics: list[MetricItem] = Field(default_factory=lambda: list(DEFAULT_METRICS), min_length=1)
    trials: int = Field(1, ge=1)
    save_interactions: bool = False
    #: "shared": every recommender and every trial starts from the same initial state and
    #: initial ratings, trials differ in the dynamics (thesis / RecLab protocol);
    #: "per-trial": each trial draws its own initial state (shared across recommenders).
    initial_state: Literal["shared", "per-trial"] = "shared"
    #: modules imported (driver and workers) before names are resolved, so that custom
    #: recommenders, policies or presets registered there can be used.
    imports: list[str] = Field(default_factory=list)
    #: "feedback": each recommender trains on the ratings of its own recommendations;
    #: "uniform": on as many uniformly drawn, never-recommended pairs (the shadow arm).
    training: Literal["feedback", "uniform"] = "feedback"
    heldout: HeldOutSection | None = None

    def metric_keys(self) -> list[Any]:
        """The metrics as plain data: a name, or ``{"name": …, "params": {…}}``."""
        return [m if isinstance(m, str) else m.model_dump(mode="json") for m in self.metrics]


#: The fields added with thesis ch. 3, and their defaults: left out of the canonical spec
#: when at their default (older specs keep their hash).
_OPTIONAL_DEFAULTS = {"training": "feedback", "heldout": None}


class EnvironmentEntry(_Model):
    """``[[environments]]``: a preset and overrides of its constructor arguments."""

    preset: PresetName
    name: str | None = Field(None, pattern=_NAME)
    overrides: dict[str, Any] = Field(default_factory=dict)
    #: The name the environment's seeds are derived under (default: its label).
    #: Environments sharing a ``seed_name`` whose presets draw their initial state the
    #: same way start from the same state and initial ratings and see the same dynamics
    #: stream — e.g. topics-static-v1 and topics-dynamic-v1 compared on the same
    #: preferences and offline data, as in thesis §2.6.
    seed_name: str | None = Field(None, pattern=_NAME)

    @property
    def label(self) -> str:
        return self.name or self.preset

    @property
    def seed_label(self) -> str:
        return self.seed_name or self.label


class RecommenderEntry(_Model):
    """``[[recommenders]]``: a registered recommender, fixed params and a grid to expand."""

    name: RecommenderName
    params: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)


class PolicyEntry(_Model):
    """``[[policies]]``: a registered selection policy and its parameters."""

    name: PolicyName = "greedy"
    params: dict[str, Any] = Field(default_factory=dict)


class TuningSection(_Model):
    """``[tuning]``: k-fold grid search on each environment's initial data (thesis ch. 2)."""

    folds: int = Field(5, ge=2)
    metric: OfflineMetricName = "rmse"
    metrics: list[OfflineMetricName] = Field(default_factory=lambda: ["rmse", "ndcg@20"])
    grid: dict[str, dict[str, list[Any]]] = Field(default_factory=dict)

    @property
    def reported(self) -> tuple[str, ...]:
        """Selection metric first, then the other reported offline metrics."""
        return tuple(dict.fromkeys([self.metric, *self.metrics]))


class ExperimentSpec(_Model):
    """A whole study: environments × recommender configs × policies × trials."""

    experiment: ExperimentSection
    environments: list[EnvironmentEntry] = Field(min_length=1)
    recommenders: list[RecommenderEntry] = Field(min_length=1)
    policies: list[PolicyEntry] = Field(default_factory=lambda: [PolicyEntry()], min_length=1)
    tuning: TuningSection | None = None

    @model_validator(mode="before")
    @classmethod
    def _imports(cls, data: Any) -> Any:
        # import first: the modules may register the names the other fields use
        imports = data.get("experiment", {}).get("imports") if isinstance(data, dict) else None
        if isinstance(imports, list):
            for module in imports:
                if isinstance(module, str):
                    try:
                        importlib.import_module(module)
                    except Exception:  # reported with its path by the after-validator
                        pass
        return data

    @model_validator(mode="after")
    def _semantics(self) -> ExperimentSpec:
        problems = check(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def canonical(self) -> dict[str, Any]:
        """The spec as plain JSON data, defaults filled in (what :func:`spec_hash` hashes)
        — except the ch. 3 options left at their defaults (module docstring)."""
        data = self.model_dump(mode="json")
        for key, default in _OPTIONAL_DEFAULTS.items():
            if data["experiment"].get(key) == default:
                del data["experiment"][key]
        return data


def spec_hash(spec: ExperimentSpec) -> str:
    """sha256 of the canonical spec JSON; changes with any value, not with TOML layout."""
    return hashlib.sha256(canonical_json(spec.canonical()).encode()).hexdigest()


# ---------------------------------------------------------------------- loading
def load_spec(source: str | Path | dict[str, Any]) -> ExperimentSpec:
    """Read and validate a spec from a TOML file path or an already parsed ``dict``.

    Raises :class:`SpecError` listing every problem as ``key.path: message``.
    """
    origin = "spec"
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise SpecError(f"cannot read spec {origin}: {err.strerror or err}") from None
        except UnicodeDecodeError as err:
            raise SpecError(
                f"cannot read spec {origin}: not a UTF-8 text file (byte "
                f"{err.object[err.start]:#04x} at offset {err.start}); a spec is a TOML file"
            ) from None
        data = parse_toml(text, origin)
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as err:
        lines = [line for e in err.errors() for line in _describe(e)]
        raise SpecError(f"{origin}: invalid experiment spec\n  " + "\n  ".join(lines)) from None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in _untagged(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: dict[str, Any]) -> list[str]:
    loc, kind, msg = tuple(error["loc"]), error["type"], error["msg"]
    if kind == "value_error" and not loc:  # the semantic checks: already "path: message"
        return str(error["ctx"]["error"]).split("\n")
    where = _path(loc) or "spec"
    if kind == "value_error":
        return [f"{where}: {error['ctx']['error']}"]
    if kind == "extra_forbidden":
        valid = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return [f"{where}: unknown key {loc[-1]!r}.{hint} Valid keys: {', '.join(valid)}"]
    if kind == "missing":
        return [f"{where}: required key is missing"]
    if kind == "string_pattern_mismatch":
        return [f"{where}: {error['input']!r} is not a valid name (letters, digits, . _ -)"]
    return [f"{where}: {msg}, got {error['input']!r}"]


def _untagged(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` without the tags of discriminated unions (``<name>``, ``<table>``)."""
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith("<")))


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    model: Any = ExperimentSpec
    for part in _untagged(loc):
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return []
        model = _model_of(field.annotation)
    return list(model.model_fields) if isinstance(model, type) else []


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None
