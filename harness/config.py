"""Experiment recipes: YAML files that can extend each other, validated into typed objects.

Every leaf value remembers the file (or the command line) that set it, so a bad key is reported
as `FILE: KEY: problem (did you mean 'x'?)` in one line.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import UserError

COMMAND_LINE = "command line"


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)


class WandbConfig(Strict):
    # auto: online when an API key is configured, offline otherwise.
    mode: Literal["auto", "offline", "online", "disabled"] = "auto"
    project: str = "sca"
    entity: str | None = None


class StageSpec(Strict):
    uses: str = Field(description="registered stage name, or 'module:function'")
    inputs: list[str] = Field(default_factory=list)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class Recipe(Strict):
    experiment: str
    description: str = ""
    run_root: Path = Path("runs")
    wandb: WandbConfig = WandbConfig()
    stages: dict[str, StageSpec]


class LoadedRecipe:
    """A validated recipe plus where each key came from and each stage's typed config."""

    def __init__(self, recipe: Recipe, raw: dict, origins: dict[str, str], stage_configs: dict[str, BaseModel]):
        self.recipe = recipe
        self.raw = raw
        self.origins = origins
        self.stage_configs = stage_configs

    def resolved(self) -> dict:
        """The fully resolved config, as recorded with every run."""
        data = self.recipe.model_dump(mode="json", by_alias=True)
        for name, cfg in self.stage_configs.items():
            data["stages"][name]["with"] = cfg.model_dump(mode="json")
        return data


def _read_yaml(path: Path, referenced_from: str) -> dict:
    if not path.is_file():
        raise UserError(f"{referenced_from}: file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UserError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a recipe must be a mapping of keys, not {type(data).__name__}")
    return data


def _merge(base: dict, top: dict, origins: dict[str, str], source: str, prefix: str = "") -> dict:
    """Deep-merge `top` over `base`, recording the source of every leaf that `top` sets."""
    out = dict(base)
    for key, value in top.items():
        dotted = f"{prefix}{key}"
        if value is None and key in out:  # `key: null` drops an inherited key (or a whole stage)
            del out[key]
            for old in [k for k in origins if k == dotted or k.startswith(dotted + ".")]:
                del origins[old]
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, origins, source, dotted + ".")
        else:
            out[key] = value
            for old in [k for k in origins if k == dotted or k.startswith(dotted + ".")]:
                del origins[old]
            _record_origins(value, origins, source, dotted)
    return out


def _record_origins(value: Any, origins: dict[str, str], source: str, dotted: str) -> None:
    origins[dotted] = source
    if isinstance(value, dict):
        for k, v in value.items():
            _record_origins(v, origins, source, f"{dotted}.{k}")


def _load_with_extends(path: Path, origins: dict[str, str], chain: tuple[Path, ...], referenced_from: str) -> dict:
    path = path.resolve()
    if path in chain:
        raise UserError(f"{chain[-1]}: extends: cycle through {path}")
    data = _read_yaml(path, referenced_from)
    parents = data.pop("extends", None)
    if parents is None:
        parents = []
    elif isinstance(parents, str):
        parents = [parents]
    elif not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise UserError(f"{path}: extends: must be a path or a list of paths")
    merged: dict = {}
    for parent in parents:
        parent_origins: dict[str, str] = {}
        parent_data = _load_with_extends(path.parent / parent, parent_origins, chain + (path,), f"{path}: extends")
        merged = _merge(merged, parent_data, origins, "", "")
        origins.update(parent_origins)
    return _merge(merged, data, origins, str(path))


def parse_override(text: str) -> tuple[list[str], Any]:
    """`a.b.c=value` -> (["a","b","c"], value parsed as YAML so numbers and lists keep their type)."""
    key, sep, value = text.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise UserError(f"{COMMAND_LINE}: '{text}': an override must look like key.sub=value")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return key.split("."), parsed


def apply_overrides(data: dict, overrides: list[str], origins: dict[str, str]) -> dict:
    for text in overrides:
        parts, value = parse_override(text)
        # `with` is the YAML spelling; accept it directly.
        nested: Any = value
        for part in reversed(parts):
            nested = {part: nested}
        data = _merge(data, nested, origins, COMMAND_LINE)
    return data


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _origin_of(origins: dict[str, str], dotted: str, default: str) -> str:
    probe = dotted
    while probe:
        if probe in origins and origins[probe]:
            return origins[probe]
        probe = probe.rpartition(".")[0]
    return default


def _model_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names available at `loc` inside `model`, for did-you-mean."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if current is None:
            return []
    fields = getattr(current, "model_fields", {})
    return [f.alias or name for name, f in fields.items()]


def validation_error_line(exc: ValidationError, model: type[BaseModel], prefix: str,
                          origins: dict[str, str], default_file: str) -> str:
    """Turn pydantic's first error into `FILE: KEY: message (did you mean ...)`."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    dotted = ".".join([prefix] + [str(p) for p in loc] if prefix else [str(p) for p in loc])
    where = _origin_of(origins, dotted, default_file)
    if err["type"] == "extra_forbidden":
        hint = _did_you_mean(str(loc[-1]), _model_fields(model, loc[:-1]))
        return f"{where}: {dotted}: unknown key{hint}"
    if err["type"] == "missing":
        return f"{where}: {dotted}: required key is missing"
    return f"{where}: {dotted}: {err['msg']} (got {err.get('input')!r})"


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> LoadedRecipe:
    from harness.stages import resolve_stage  # late: avoids a cycle and keeps import light

    path = Path(path)
    origins: dict[str, str] = {}
    raw = _load_with_extends(path, origins, (), COMMAND_LINE)
    raw = apply_overrides(raw, overrides or [], origins)
    top_file = str(path.resolve())
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as exc:
        raise UserError(validation_error_line(exc, Recipe, "", origins, top_file)) from None

    stage_configs: dict[str, BaseModel] = {}
    names = list(recipe.stages)
    for name, spec in recipe.stages.items():
        for dep in spec.inputs:
            if dep not in recipe.stages:
                where = _origin_of(origins, f"stages.{name}.inputs", top_file)
                raise UserError(f"{where}: stages.{name}.inputs: unknown stage '{dep}'{_did_you_mean(dep, names)}")
        stage = resolve_stage(spec.uses, where=f"{_origin_of(origins, f'stages.{name}.uses', top_file)}: "
                                               f"stages.{name}.uses")
        try:
            stage_configs[name] = stage.config_model.model_validate(spec.with_)
        except ValidationError as exc:
            raise UserError(validation_error_line(exc, stage.config_model, f"stages.{name}.with",
                                                  origins, top_file)) from None
    _check_acyclic(recipe, top_file)
    return LoadedRecipe(recipe, raw, origins, stage_configs)


def _check_acyclic(recipe: Recipe, where: str) -> None:
    state: dict[str, int] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise UserError(f"{where}: stages: cycle {' -> '.join(trail + (name,))}")
        state[name] = 1
        for dep in recipe.stages[name].inputs:
            visit(dep, trail + (name,))
        state[name] = 2

    for name in recipe.stages:
        visit(name, ())
