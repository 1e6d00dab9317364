"""Contract checks and typing of a stage table, generated from compliance.schema (all in SQL).

A stage row either becomes a typed row or a reject whose reason names every field that broke the
contract (missing required value, bad timestamp, unknown enum value, bad number, conditional field).
Validity is one boolean per row over typed values; reason strings are built only for rows that fail.
"""

from __future__ import annotations

from compliance.schema import Column, Source


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(c: Column) -> str:
    """The field as read, NULL when absent or empty (lists and JSON are already typed by the reader)."""
    return f"nullif(\"{c.name}\", '')" if c.type not in ("VARCHAR[]", "JSON") else f'"{c.name}"'


CASTABLE = ("TIMESTAMP", "DATE", "BIGINT", "DOUBLE", "BOOLEAN")


def typed_expr(c: Column) -> str:
    """The stage text of a column cast to its contract type (NULL when absent or empty)."""
    t = _text(c)
    if c.type == "TIMESTAMP":
        # An RFC 3339 offset is honoured and the instant stored in UTC; no offset means UTC (session zone is UTC).
        e = f"cast(try_cast({t} as timestamptz) as timestamp)"
    elif c.type in CASTABLE:
        e = f"try_cast({t} as {c.type})"
    else:
        e = t
    return f'{e} as "{c.name}"'


def _quoted(expr: str) -> str:
    """SQL text expression rendering `expr` between single quotes, for reasons like: bad timestamp 'x'."""
    quote = "''''"  # a SQL literal holding one single quote
    return f"{quote} || {expr} || {quote}"


def _checks(source: Source, typed: bool) -> list[tuple[str, str, str]]:
    """(field, SQL condition true when the field breaks the contract, SQL expression of the reason) per check.

    typed=False: conditions over the text as read (`_stage`), used to explain rejects.
    typed=True: the same conditions over already-cast columns, with the text of castable fields kept as
    `_raw_<name>`, so each value is parsed once on the happy path.
    """

    def val(c: Column) -> str:
        return f'"{c.name}"' if typed else _text(c)

    def parsed_is_null(c: Column) -> str:
        if typed:
            return f'"{c.name}" is null'
        target = "timestamptz" if c.type == "TIMESTAMP" else c.type
        return f"try_cast({_text(c)} as {target}) is null"

    out: list[tuple[str, str, str]] = []
    for c in source.columns:
        v, raw = val(c), (f'"_raw_{c.name}"' if typed and c.type in CASTABLE else _text(c))
        if c.required:
            out.append((c.name, f"{raw} is null", _q(f"field {c.name}: missing required value")))
        if c.type in CASTABLE:
            what = {"TIMESTAMP": "bad timestamp", "DATE": "bad date", "BOOLEAN": "not true/false"}.get(
                c.type, "not a number"
            )
            out.append(
                (
                    c.name,
                    f"({raw} is not null and {parsed_is_null(c)})",
                    f"{_q(f'field {c.name}: {what} ')} || {_quoted(raw)}",
                )
            )
        if c.min_value is not None:
            number = v if typed else f"try_cast({v} as double)"
            out.append(
                (
                    c.name,
                    f"coalesce({number} < {c.min_value}, false)",
                    f"{_q(f'field {c.name}: ')} || {raw} || {_q(f' is below {c.min_value:g}')}",
                )
            )
        if c.enum:
            allowed = ", ".join(_q(x) for x in c.enum)
            expected = _q(f" (expected one of {', '.join(c.enum)})")
            out.append(
                (
                    c.name,
                    f"({v} is not null and {v} not in ({allowed}))",
                    f"{_q(f'field {c.name}: unknown value ')} || {_quoted(v)} || {expected}",
                )
            )
        if c.timezone:
            # An unknown zone would break every local-time control later; reject the row now instead.
            cond = f"({v} is not null and {v} not in (select name from pg_timezone_names()))"
            out.append((c.name, cond, f"{_q(f'field {c.name}: unknown IANA time zone ')} || {_quoted(v)}"))
    for rw in source.required_when:
        col, when = val(source.column(rw.column)), val(source.column(rw.when_column))
        values = ", ".join(_q(x) for x in rw.when_values)
        cond = f"({col} is null and coalesce({when} in ({values}), false))"
        out.append(
            (rw.column, cond, f"{_q(f'field {rw.column}: required when {rw.when_column} is ')} || {_quoted(when)}")
        )
    return out


def typed_select(source: Source) -> str:
    """Every row of `_stage`, typed, with `_line` and `_valid` (false when any contract check fails)."""
    inner = ", ".join(typed_expr(c) for c in source.columns)
    raws = "".join(f', {_text(c)} as "_raw_{c.name}"' for c in source.columns if c.type in CASTABLE)
    bad = " or ".join(cond for _, cond, _ in _checks(source, typed=True))
    defaults = {c.name: c.default for c in source.columns if c.default is not None}
    outer = ", ".join(
        f'coalesce("{c}", {d}) as "{c}"' if (d := defaults.get(c)) else f'"{c}"' for c in source.column_names
    )
    return f"""select _file_index, _line, not (_unparseable or {bad}) as _valid, {outer}
        from (select _file_index, _line, _unparseable, {inner}{raws} from _stage)"""


def reject_select(source: Source) -> str:
    """`_line`, `_reject_field` (the first failing field) and `_reject_reason` (every problem) of the bad rows
    of `_stage`, judged on the text as read (the rare path, so clarity beats speed here)."""
    checks = _checks(source, typed=False)
    bad = " or ".join(cond for _, cond, _ in checks)
    reasons = ", ".join(f"case when {cond} then {why} end" for _, cond, why in checks)
    first = "case " + " ".join(f"when {cond} then {_q(f)}" for f, cond, _ in checks) + " end"
    return f"""select _line,
            case when _unparseable then null else {first} end as _reject_field,
            case when _unparseable then 'unparseable record: not a JSON object with contract fields'
                 else concat_ws('; ', {reasons}) end as _reject_reason
        from _stage where _unparseable or {bad}"""
