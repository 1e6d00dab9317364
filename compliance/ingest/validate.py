"""Contract checks and typing of a stage table, generated from compliance.schema (all in SQL).

A stage row either becomes a typed row or a reject whose reason names every field that broke the
contract (missing required value, bad timestamp, unknown enum value, bad number, conditional field).
"""

from __future__ import annotations

from compliance.schema import Column, Source


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(c: Column) -> str:
    return f"nullif(trim(\"{c.name}\"), '')" if c.type not in ("VARCHAR[]", "JSON") else f'"{c.name}"'


def typed_expr(c: Column) -> str:
    """The stage text of a column cast to its contract type (NULL when absent or empty)."""
    t = _text(c)
    if c.type == "TIMESTAMP":
        # An RFC 3339 offset is honoured and the instant stored in UTC; no offset means UTC (session zone is UTC).
        e = f"cast(try_cast({t} as timestamptz) as timestamp)"
    elif c.type in ("DATE", "BIGINT", "DOUBLE", "BOOLEAN"):
        e = f"try_cast({t} as {c.type})"
    else:
        e = t
    if c.default is not None:
        e = f"coalesce({e}, {c.default})"
    return f'{e} as "{c.name}"'


def _checks(source: Source) -> list[tuple[str, str]]:
    """(field, SQL expression giving a reason or NULL) for every check of the source's contract."""
    out: list[tuple[str, str]] = []
    for c in source.columns:
        t = _text(c)
        shown = f"cast({t} as varchar)" if c.type in ("VARCHAR[]", "JSON") else t
        if c.required:
            out.append((c.name, f"case when {t} is null then 'field {c.name}: missing required value' end"))
        if c.type in ("TIMESTAMP", "DATE", "BIGINT", "DOUBLE", "BOOLEAN"):
            target = "timestamptz" if c.type == "TIMESTAMP" else c.type
            what = {"TIMESTAMP": "bad timestamp", "DATE": "bad date", "BOOLEAN": "not true/false"}.get(
                c.type, "not a number"
            )
            out.append(
                (
                    c.name,
                    f"case when {t} is not null and try_cast({t} as {target}) is null then 'field {c.name}: {what} ''' || {shown} || '''' end",
                )
            )
        if c.min_value is not None:
            out.append(
                (
                    c.name,
                    f"case when try_cast({t} as double) < {c.min_value} then 'field {c.name}: ' || {shown} || ' is below {c.min_value:g}' end",
                )
            )
        if c.enum:
            allowed = ", ".join(_q(v) for v in c.enum)
            listed = ", ".join(c.enum)
            out.append(
                (
                    c.name,
                    f"case when {t} is not null and {t} not in ({allowed}) then 'field {c.name}: unknown value ''' || {t} || ''' (expected one of {listed})' end",
                )
            )
    for rw in source.required_when:
        col = source.column(rw.column)
        when = source.column(rw.when_column)
        values = ", ".join(_q(v) for v in rw.when_values)
        out.append(
            (
                rw.column,
                f"case when {_text(col)} is null and {_text(when)} in ({values}) then 'field {rw.column}: required when {rw.when_column} is ''' || {_text(when)} || '''' end",
            )
        )
    return out


def checked_view_sql(source: Source) -> str:
    """A view over `_stage` adding `_reject_field` and `_reject_reason` (NULL for a good row)."""
    checks = _checks(source)
    reasons = ", ".join(expr for _, expr in checks)
    first_field = (
        "coalesce(" + ", ".join(f"case when ({expr}) is not null then {_q(f)} end" for f, expr in checks) + ")"
    )
    return f"""create or replace temp view _checked as
        select *,
            case when _unparseable then null else {first_field} end as _reject_field,
            case when _unparseable then 'unparseable record: not a JSON object with contract fields'
                 else nullif(concat_ws('; ', {reasons}), '') end as _reject_reason
        from _stage"""


def typed_select(source: Source) -> str:
    """Typed contract columns of the good rows of `_checked` (plus `_line`)."""
    cols = ", ".join(typed_expr(c) for c in source.columns)
    return f"select _line, {cols} from _checked where _reject_reason is null"
