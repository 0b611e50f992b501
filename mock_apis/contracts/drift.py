"""Drift: every difference between the contract and what a service (or this process) and a
replica really are, each classified as breaking or compatible, with likely renames named.

A caller that reads a result by field name breaks when the field goes, changes type or may
now be absent, when a parameter it does not send becomes required, or a tool, tool version or
column it reads disappears. New optional fields, parameters, tools, tool versions (a v2
served beside v1) and columns break no one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from mock_apis.contracts.shapes import Shape, compatible_types, declared, observe, parent_of

BREAKING, COMPATIBLE = "breaking", "compatible"
#: Errors a sample may meet on a service whose replica is not the contract's: the arguments
#: name rows it does not hold. Not drift; any other failure is.
DATA_ERRORS = frozenset({"not_found", "rule_violation", "insufficient_funds", "conflict", "empty_result"})
#: Schema keywords whose violations the shape comparison already reports (as removed, new or
#: retyped fields).
SHAPE_KEYWORDS = frozenset({"additionalProperties", "required", "type"})
#: Violations listed per sampled tool at most.
MAX_VIOLATIONS = 5


@dataclass(frozen=True)
class Finding:
    """One difference between a contract and a back-end: severity, kind, tool and schema path."""
    severity: str
    kind: str
    where: str
    path: str
    detail: str = ""

    @property
    def label(self) -> str:
        """``where: kind path``, as reports name it."""
        return f"{self.where}: {self.kind.replace('_', ' ')} {self.path}"


@dataclass(frozen=True)
class Rename:
    """A likely renamed field or tool, with the evidence for it."""
    where: str
    old: str
    new: str
    evidence: str


@dataclass
class DriftReport:
    """A drift check's result: findings (breaking or compatible), likely renames, notes and what was checked."""
    findings: list[Finding] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    contract: str = ""

    @property
    def breaking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == BREAKING]

    @property
    def compatible(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == COMPATIBLE]

    @property
    def ok(self) -> bool:
        return not self.breaking

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "contract": self.contract, "checked": self.checked,
                "breaking": [asdict(f) for f in self.breaking], "compatible": [asdict(f) for f in self.compatible],
                "renames": [asdict(r) for r in self.renames], "notes": self.notes}

    def lines(self) -> list[str]:
        """The report as text: what was checked, each difference, likely renames, the verdict."""
        out = [f"contract: {self.contract}", *(f"checked: {c}" for c in self.checked)]
        for title, mark, found in (("BREAKING", "-", self.breaking), ("compatible", "+", self.compatible)):
            if found:
                out.append(f"{title} ({len(found)}):")
                out.extend(f"  {mark} {f.label}" + (f" ({f.detail})" if f.detail else "") for f in found)
        if self.renames:
            out.append(f"likely renames ({len(self.renames)}):")
            out.extend(f"  ~ {r.where}: {r.old} -> {r.new} ({r.evidence})" for r in self.renames)
        out.extend(f"note: {n}" for n in self.notes)
        verdict = "breaking drift" if self.breaking else "no breaking drift"
        out.append(f"result: {verdict} ({len(self.breaking)} breaking, {len(self.compatible)} compatible)")
        return out

    def summary(self) -> str:
        """One line naming the breaking differences (for an error message)."""
        named = "; ".join(f.label for f in self.breaking[:10])
        more = f" and {len(self.breaking) - 10} more" if len(self.breaking) > 10 else ""
        return f"{len(self.breaking)} breaking difference(s) from the contract: {named}{more}"


def _container(path: str) -> str:
    """The path holding ``path``: an array for an item path, else the parent object."""
    return path[:-2] if path.endswith("[]") else parent_of(path)


def _covered(path: str, others: set[str]) -> bool:
    """Whether an ancestor of ``path`` is in ``others`` (reported there instead)."""
    container = _container(path)
    while container:
        if container in others:
            return True
        container = _container(container)
    return False


def _unobserved(path: str, live: Shape) -> bool:
    """Whether a sampled result simply had nothing at ``path``'s place: an empty array or a null."""
    container = _container(path)
    if not container:
        return False
    if path.endswith("[]"):
        return container in live
    return container in live and "object" not in live[container]


def _pair_renames(where: str, removed: list[str], added: list[str], old: Shape, new: Shape,
                  old_values: dict[str, str], new_values: dict[str, str]) -> list[Rename]:
    """Likely renames: a removed and an added field in the same object with the same types,
    matched by equal values first, else as the only such pair in that object."""
    renames: list[Rename] = []
    free = list(added)
    for path in removed:
        same_type = [a for a in free if _container(a) == _container(path) and old[path] == new[a]]
        by_value = [a for a in same_type if path in old_values and old_values[path] == new_values.get(a)]
        if by_value:
            match, evidence = by_value[0], "same type and values"
        elif len(same_type) == 1 and sum(_container(r) == _container(path) and old[r] == old[path]
                                         for r in removed) == 1:
            match, evidence = same_type[0], "same type"
        else:
            continue
        free.remove(match)
        renames.append(Rename(where, path, match, evidence))
    return renames


def _removals_and_additions(where: str, what: str, removed: list[str], added: list[str], renames: list[Rename],
                            added_detail: Callable[[str], str]) -> list[Finding]:
    """``removed_<what>`` (breaking; "likely renamed to" where paired) and ``new_<what>``
    (compatible; a rename's new side is not reported again) findings."""
    renamed = {r.old: r.new for r in renames}
    findings = [Finding(BREAKING, f"removed_{what}", where, p, f"likely renamed to {renamed[p]}" if p in renamed else "")
                for p in removed]
    findings += [Finding(COMPATIBLE, f"new_{what}", where, p, added_detail(p))
                 for p in added if p not in renamed.values()]
    return findings


def diff_shapes(where: str, old: Shape, new: Shape, *, old_values: dict[str, str] | None = None,
                new_values: dict[str, str] | None = None, allowed: Shape | None = None,
                sampled: bool = False) -> tuple[list[Finding], list[Rename]]:
    """Removed, new and retyped fields between two shapes; for a sampled ``new``, places that
    were merely empty are not removals, and ``allowed`` (the declared types) widens ``old``."""
    removed = [p for p in old if p not in new and not _covered(p, set(old) - set(new))
               and not (sampled and _unobserved(p, new))]
    added = [p for p in new if p not in old and not _covered(p, set(new) - set(old))]
    renames = _pair_renames(where, removed, added, old, new, old_values or {}, new_values or {})
    findings = _removals_and_additions(where, "field", removed, added, renames, lambda p: "/".join(new[p]))
    for path in old:
        if path in new and not compatible_types(old[path] + (allowed or {}).get(path, []), new[path]):
            findings.append(Finding(BREAKING, "type_change", where, path, f"{'/'.join(old[path])} -> {'/'.join(new[path])}"))
    return findings, renames


def _param_types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _constraints(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("description", "type", "enum")}


def _diff_parameter(where: str, name: str, old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    out = []
    old_types, new_types = _param_types(old), _param_types(new)
    if old_types != new_types:
        severity = COMPATIBLE if old_types <= new_types else BREAKING
        out.append(Finding(severity, "parameter_type_change", where, name,
                           f"{'/'.join(sorted(old_types))} -> {'/'.join(sorted(new_types))}"))
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if old_enum is not None and new_enum is not None and old_enum != new_enum:
        if gone := [v for v in old_enum if v not in new_enum]:
            out.append(Finding(BREAKING, "parameter_values_removed", where, name, ", ".join(map(str, gone))))
        if extra := [v for v in new_enum if v not in old_enum]:
            out.append(Finding(COMPATIBLE, "parameter_values_added", where, name, ", ".join(map(str, extra))))
    elif (old_enum is None) != (new_enum is None):
        out.append(Finding(COMPATIBLE if new_enum is None else BREAKING, "parameter_values_changed", where, name))
    if _constraints(old) != _constraints(new):
        out.append(Finding(BREAKING, "parameter_constraints_changed", where, name))
    return out


def diff_parameters(tool: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Finding], list[Rename]]:
    """Differences between two parameter schemas, from a caller's side."""
    where = f"tool {tool} parameters"
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_req, new_req = set(old.get("required", ())), set(new.get("required", ()))
    removed = [p for p in old_props if p not in new_props]
    added = [p for p in new_props if p not in old_props]
    shape_old = {p: sorted(_param_types(s)) for p, s in old_props.items()}
    shape_new = {p: sorted(_param_types(s)) for p, s in new_props.items()}
    renames = _pair_renames(where, removed, added, shape_old, shape_new, {}, {})
    findings = [Finding(BREAKING, "removed_parameter", where, p) for p in removed]
    for name in added:
        required = name in new_req
        findings.append(Finding(BREAKING if required else COMPATIBLE,
                                "new_required_parameter" if required else "new_optional_parameter", where, name))
    for name in old_props:
        if name not in new_props:
            continue
        if name in new_req and name not in old_req:
            findings.append(Finding(BREAKING, "parameter_now_required", where, name))
        elif name in old_req and name not in new_req:
            findings.append(Finding(COMPATIBLE, "parameter_now_optional", where, name))
        findings += _diff_parameter(where, name, old_props[name], new_props[name])
    rules = ("properties", "required", "description")
    if {k: v for k, v in old.items() if k not in rules} != {k: v for k, v in new.items() if k not in rules}:
        findings.append(Finding(BREAKING, "parameter_rules_changed", where, "(schema)",
                                "keywords other than the parameters changed (e.g. anyOf)"))
    return findings, renames


def diff_returns(tool: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Finding], list[Rename]]:
    """Differences between two published result schemas."""
    where = f"tool {tool} result schema"
    old_shape, old_required = declared(old)
    new_shape, new_required = declared(new)
    findings, renames = diff_shapes(where, old_shape, new_shape)
    findings += [Finding(BREAKING, "field_now_optional", where, p) for p in sorted(old_required - new_required)
                 if p in new_shape]
    return findings, renames


def _diff_members(noun: str, old: dict[str, Any], new: dict[str, Any],
                  diff_one: Callable[[str, Any, Any], tuple[list[Finding], list[Rename]]]
                  ) -> tuple[list[Finding], list[Rename]]:
    """Removed (breaking) and new (compatible) tools or tables, then ``diff_one`` of each kept one."""
    findings = [Finding(BREAKING, f"removed_{noun}", f"{noun} {n}", n) for n in old if n not in new]
    findings += [Finding(COMPATIBLE, f"new_{noun}", f"{noun} {n}", n) for n in sorted(new) if n not in old]
    renames: list[Rename] = []
    for name, before in old.items():
        if name in new:
            found, named = diff_one(name, before, new[name])
            findings += found
            renames += named
    return findings, renames


def _diff_tool(name: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Finding], list[Rename]]:
    findings: list[Finding] = []
    renames: list[Rename] = []
    if old["version"] != new.get("version"):
        findings.append(Finding(COMPATIBLE, "version_change", f"tool {name}", name,
                                f"{old['version']} -> {new.get('version')}"))
    if old["writes"] != new.get("writes"):
        findings.append(Finding(BREAKING, "write_behaviour_change", f"tool {name}", name,
                                f"writes: {old['writes']} -> {new.get('writes')}"))
    for diff, key in ((diff_parameters, "parameters"), (diff_returns, "returns")):
        found, named = diff(name, old[key], new.get(key) or {})
        findings += found
        renames += named
    return findings, renames


def diff_tools(contract_tools: dict[str, Any], live: dict[str, Any]) -> tuple[list[Finding], list[Rename]]:
    """Differences between the contract's tools and the published ones."""
    return _diff_members("tool", contract_tools, live, _diff_tool)


def _by_version(tools: dict[str, Any]) -> dict[tuple[str, str], tuple[str, Any]]:
    """Each tool version's ``(name, version)`` -> ``(its key, its contract)``, from entries keyed
    by name (a default: its version is the major number of its ``version``) or ``name@version``."""
    out = {}
    for key, entry in tools.items():
        name, at, version = key.partition("@")
        out[(name, version if at else str(entry.get("version", "")).partition(".")[0])] = (key, entry)
    return out


def diff_versions(contract_tools: dict[str, Any], contract_versions: dict[str, Any],
                  live: dict[str, Any]) -> tuple[list[Finding], list[Rename]]:
    """Differences in the tools' other versions, each matched by ``(name, version)`` wherever a
    side serves it (as the default, or as ``name@version`` beside it), so that a new default is
    not a removed version. ``live``: the published tools by name and by ``name@version``. A
    removed version is breaking (tasks pinned to it get ``unknown_version``), a new one is
    compatible; two defaults of the same version are ``diff_tools``' to compare."""
    old, new = _by_version({**contract_tools, **contract_versions}), _by_version(live)
    findings: list[Finding] = []
    renames: list[Rename] = []
    for (name, version), (old_key, before) in old.items():
        ref = f"{name}@{version}"
        if name not in live:
            continue  # the whole tool is gone: a removed tool
        if (name, version) not in new:
            findings.append(Finding(BREAKING, "removed_tool_version", f"tool {ref}", ref,
                                    "tasks pinned to it get unknown_version"))
        elif "@" in old_key or "@" in new[(name, version)][0]:
            found, named = _diff_tool(ref, before, new[(name, version)][1])
            findings += found
            renames += named
    findings += [Finding(COMPATIBLE, "new_tool_version", f"tool {name}@{version}", f"{name}@{version}")
                 for name, version in sorted(new) if (name, version) not in old and name in contract_tools]
    return findings, renames


def _violation_path(parts: Iterable[Any]) -> str:
    return ".".join("[]" if isinstance(p, int) else str(p) for p in parts).replace(".[]", "[]") or "(root)"


def diff_sample(tool: str, sample: dict[str, Any], returns: dict[str, Any], payload: Any) -> tuple[list[Finding], list[Rename]]:
    """A real result against the contract's sample of the same tool and its result schema."""
    where = f"tool {tool} result (sampled)"
    shape, values = observe(payload)
    findings, renames = diff_shapes(where, sample["shape"], shape, old_values=sample["values"], new_values=values,
                                    allowed=declared(returns)[0], sampled=True)
    seen: set[tuple[str, str]] = set()
    for err in Draft202012Validator(returns).iter_errors(payload):
        key = (_violation_path(err.absolute_path), err.validator)
        if err.validator in SHAPE_KEYWORDS or key in seen or len(seen) >= MAX_VIOLATIONS:
            continue
        seen.add(key)
        findings.append(Finding(BREAKING, "schema_violation", where, key[0], err.message[:200]))
    return findings, renames


def diff_database(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Finding], list[Rename]]:
    """Differences between the contract's database schema and a replica's."""
    return _diff_members("table", old, new, _diff_table)


def _diff_table(table: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Finding], list[Rename]]:
    where = f"table {table}"
    cols_old, cols_new = old["columns"], new["columns"]
    removed = [c for c in cols_old if c not in cols_new]
    added = [c for c in cols_new if c not in cols_old]
    renames = _pair_renames(where, removed, added, {c: [cols_old[c]["type"]] for c in removed},
                            {c: [cols_new[c]["type"]] for c in added},
                            {c: cols_old[c]["values"] for c in removed}, {c: cols_new[c]["values"] for c in added})
    findings = _removals_and_additions(where, "column", removed, added, renames, lambda c: cols_new[c]["type"])
    for name, before in cols_old.items():
        after = cols_new.get(name)
        if after is None:
            continue
        if before["type"] != after["type"]:
            findings.append(Finding(BREAKING, "column_type_change", where, name, f"{before['type']} -> {after['type']}"))
        if before["notnull"] and not after["notnull"]:
            findings.append(Finding(BREAKING, "column_now_nullable", where, name))
        elif after["notnull"] and not before["notnull"]:
            findings.append(Finding(COMPATIBLE, "column_now_not_null", where, name))
    if old["primary_key"] != new["primary_key"]:
        findings.append(Finding(BREAKING, "primary_key_change", where, ", ".join(new["primary_key"]) or "(none)",
                                f"was {', '.join(old['primary_key']) or '(none)'}"))
    fks_old = {_fk(f) for f in old["foreign_keys"]}
    fks_new = {_fk(f) for f in new["foreign_keys"]}
    findings += [Finding(BREAKING, "removed_foreign_key", where, fk) for fk in sorted(fks_old - fks_new)]
    findings += [Finding(COMPATIBLE, "new_foreign_key", where, fk) for fk in sorted(fks_new - fks_old)]
    return findings, renames


def _fk(fk: dict[str, Any]) -> str:
    return f"({', '.join(fk['columns'])}) -> {fk['references']}({', '.join(fk['to'])})"

