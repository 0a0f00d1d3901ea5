"""Reading policy files: YAML with exact decimals, includes, overlays, validation.

A jurisdiction's file may `include` shared provincial parts (Harbin and Jiamusi include
Heilongjiang's critical-illness insurance). An overlay (`--overlay F`) is a file of the same
format holding only changed or added values; it is merged on top:

- mappings merge key by key;
- lists of items with an `id` (rules, subsidy shares, warnings) merge item by item on `id`;
- lists of dated values merge on `from`: a value with the same date replaces, a new date is added;
- anything else is replaced.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tuodi.policy.policy import Policy
from tuodi.policy.schema import PolicyFile

JURISDICTIONS = ("harbin", "qinghai", "jiamusi", "changzhi", "quzhou")


class PolicyError(ValueError):
    """A policy or overlay file that cannot be used: names the file, the key and the problem."""


class _DecimalLoader(yaml.SafeLoader):
    """YAML loader that reads numbers with a fraction as `Decimal`, never as binary floats."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    """Numbers with a fraction as exact decimals; `.nan` and `.inf` are refused."""
    try:
        value = Decimal(loader.construct_scalar(node).replace("_", ""))
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a number a policy can hold", node.start_mark)
    return value


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _read_yaml(path: str | Path, text: str) -> dict:
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as e:
        first = next((line for line in str(e).splitlines() if line.strip()), "")
        raise PolicyError(f"{path}: not valid YAML: {first}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy file is a mapping with keys id, name, …")
    return data


def _builtin_text(name: str) -> str | None:
    res = resources.files("tuodi.policy") / "data" / f"{name}.yaml"
    return res.read_text(encoding="utf-8") if res.is_file() else None


def _is_dated(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) and "from" in i and "value" in i for i in items)


def _is_keyed(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) and "id" in i for i in items)


def merge(base: Any, over: Any) -> Any:
    """Merge an overlay into a base (see the module docstring for the rules)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(over, list):
        if _is_keyed(base) and _is_keyed(over):
            out = list(base)
            index = {item["id"]: i for i, item in enumerate(out)}
            for item in over:
                if item["id"] in index:
                    out[index[item["id"]]] = merge(out[index[item["id"]]], item)
                else:
                    out.append(item)
            return out
        if _is_dated(base) and _is_dated(over):
            by_date = {_date_key(i["from"]): i for i in base}
            by_date.update({_date_key(i["from"]): i for i in over})
            return [by_date[k] for k in sorted(by_date)]
    return over


def _date_key(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _raw(name: str, seen: tuple[str, ...] = ()) -> dict:
    if name in seen:
        raise PolicyError(f"policy {name}: include cycle {' -> '.join((*seen, name))}")
    text = _builtin_text(name)
    if text is None:
        raise PolicyError(
            f"unknown policy {name!r}: choose one of {', '.join(JURISDICTIONS)}"
        )
    data = _read_yaml(f"{name}.yaml", text)
    merged: dict = {}
    for inc in data.get("include", []):
        merged = merge(merged, _raw(inc, (*seen, name)))
    merged = merge(merged, {k: v for k, v in data.items() if k != "include"})
    return merged


def _format_error(where: str, e: ValidationError) -> str:
    err = e.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top)"
    more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
    return f"{where}: key {key}: {err['msg']}{more}"


def load_policy(name: str, overlay: str | Path | None = None) -> Policy:
    """Load a built-in jurisdiction's policy, optionally with an overlay file on top."""
    raw = _raw(name)
    where = f"policy {name}"
    if overlay is not None:
        path = Path(overlay)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as e:
            raise PolicyError(f"{path}: cannot read overlay: {e.strerror}") from None
        over = _read_yaml(path, text)
        over.pop("include", None)
        over.setdefault("id", raw["id"])
        raw = merge(raw, over)
        where = f"{path} (overlay on {name})"
    try:
        model = PolicyFile.model_validate(raw)
    except ValidationError as e:
        raise PolicyError(_format_error(where, e)) from None
    try:
        return Policy(model)
    except ValueError as e:
        raise PolicyError(f"{where}: {e}") from None


def validate_file(path: str | Path) -> PolicyFile:
    """Validate a stand-alone policy file (used by tests of the data files)."""
    path = Path(path)
    try:
        return PolicyFile.model_validate(_read_yaml(path, path.read_text(encoding="utf-8")))
    except ValidationError as e:
        raise PolicyError(_format_error(str(path), e)) from None


def available() -> list[Policy]:
    return [load_policy(name) for name in JURISDICTIONS]
