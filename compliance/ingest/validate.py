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
    """The field as read, NULL when absent or empty (lists are read as JSON, JSON as JSON)."""
    return f"nullif(\"{c.name}\", '')" if c.type not in ("VARCHAR[]", "JSON") else f'"{c.name}"'


CASTABLE = ("TIMESTAMP", "DATE", "BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR[]")
# RFC 3339 (a space for the T and a missing offset tolerated; no offset means UTC). Real UTC offsets
# stop at +14:00, so `+25:00` is a reject, not a shifted instant.
RFC3339 = r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*([Zz]|[+-](0\d|1[0-4]):?[0-5]\d)?"
INTEGER = r"[+-]?\d+"
# A decimal number as JSON or CSV writes one (blanks around it tolerated): DuckDB's cast also reads `1_000` and
# `0x10`, which are not numbers in an export.
DECIMAL = r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*"
# The window a plausible timestamp lies in, bound at run time ($earliest, $latest: load.TimeWindow).
WINDOW_PARAMS = ("earliest", "latest")


def window_params(sql: str, earliest: object, latest: object) -> dict[str, object]:
    """The time-window parameters a validation statement uses (DuckDB refuses undeclared ones)."""
    return {"earliest": earliest, "latest": latest} if "$earliest" in sql else {}


def typed_expr(c: Column) -> str:
    """The stage text of a column cast to its contract type (NULL when absent or empty)."""
    t = _text(c)
    if c.type == "TIMESTAMP":
        # An RFC 3339 offset is honoured and the instant stored in UTC; no offset means UTC (session zone is UTC).
        e = f"cast(try_cast({t} as timestamptz) as timestamp)"
    elif c.type == "BOOLEAN":
        # Only the contract's words: `yes`, `1`, `T` are not booleans here.
        e = f"case lower({t}) when 'true' then true when 'false' then false end"
    elif c.type == "VARCHAR[]":
        e = f"try_cast(cast({t} as json) as varchar[])"
    elif c.type == "BIGINT":
        # try_cast would round 1.7 to 2: a count must be written as an integer.
        e = f"case when regexp_full_match({t}, '{INTEGER}') then try_cast({t} as bigint) end"
    elif c.type in CASTABLE:
        e = f"try_cast({t} as {c.type})"
    else:
        e = t
    return f'{e} as "{c.name}"'


def _quoted(expr: str) -> str:
    """SQL text expression rendering `expr` between single quotes, for reasons like: bad timestamp 'x'."""
    quote = "''''"  # a SQL literal holding one single quote
    return f"{quote} || {expr} || {quote}"


def _checks(source: Source, typed: bool, nested_lists: bool = True) -> list[tuple[str, str, str]]:
    """(field, SQL condition true when the field breaks the contract, SQL expression of the reason) per check.

    typed=False: conditions over the text as read (`_stage`), used to explain rejects.
    typed=True: the same conditions over already-cast columns, with the text of castable fields kept as
    `_raw_<name>`, so each value is parsed once on the happy path.
    nested_lists=False leaves out the test for a list or object inside a list, which parses each list's JSON once
    more: the fast read leaves it to a careful read of any file whose lists may hold one
    (enrich.suspect_list_sql).
    """

    def val(c: Column) -> str:
        return f'"{c.name}"' if typed else _text(c)

    def parsed(c: Column) -> str:
        """The parsed value (typed: the column; text: the same expression typed_expr uses)."""
        return f'"{c.name}"' if typed else typed_expr(c).rsplit(" as ", 1)[0]

    out: list[tuple[str, str, str]] = []
    for c in source.columns:
        v, raw = val(c), (f'"_raw_{c.name}"' if typed and c.type in CASTABLE else _text(c))
        if c.required:
            out.append((c.name, f"{raw} is null", _q(f"field {c.name}: missing required value")))
        if c.type in CASTABLE:
            what = {
                "TIMESTAMP": "bad timestamp",
                "DATE": "bad date",
                "BOOLEAN": "not true/false",
                "BIGINT": "not an integer",
                "VARCHAR[]": "not a list of strings",
            }.get(c.type, "not a number")
            bad = f"{parsed(c)} is null"
            if c.type == "TIMESTAMP":  # `infinity`, `epoch`, `+25:00` parse, but are not RFC 3339
                bad = f"({bad} or not regexp_full_match({raw}, '{RFC3339}'))"
            if c.type == "DOUBLE":  # `nan` and `inf` parse as doubles, but measure nothing (and NaN sorts above all)
                bad = f"({bad} or not isfinite({parsed(c)}) or not regexp_full_match({raw}, '{DECIMAL}'))"
            if c.type == "VARCHAR[]":  # a JSON null is an absent list, not a bad one
                bad = f"({bad} and json_type(cast({raw} as json)) <> 'NULL')"
                if nested_lists:  # the cast to a list of text keeps a nested list or object as its JSON text
                    nested = f"list_has_any(json_type(cast({raw} as json), '$[*]'), ['ARRAY', 'OBJECT'])"
                    bad = f"({bad} or {nested})"
            shown = f"cast({raw} as varchar)" if c.type == "VARCHAR[]" else raw
            out.append(
                (c.name, f"({raw} is not null and {bad})", f"{_q(f'field {c.name}: {what} ')} || {_quoted(shown)}")
            )
        if c.type == "TIMESTAMP":
            # Year 9999 or 1970 would move the default as-of date or age every record: outside the
            # plausible window, a timestamp is a reject ($earliest/$latest bound per run).
            upper = "" if c.may_be_future else f" or {parsed(c)} > $latest"
            cond = f"coalesce({parsed(c)} < $earliest{upper}, false)"
            window = "$earliest::varchar" + ("" if c.may_be_future else " || ' .. ' || $latest::varchar")
            out.append(
                (
                    c.name,
                    cond,
                    f"{_q(f'field {c.name}: timestamp ')} || {_quoted(raw)} || ' outside the plausible window ' || {window}",
                )
            )
        number = v if typed else f"try_cast({v} as double)"
        for bound, op, words in ((c.min_value, "<", "below"), (c.max_value, ">", "above")):
            if bound is not None:
                out.append(
                    (
                        c.name,
                        # (a NaN or an infinity is told as not a number, above: not out of range as well)
                        f"coalesce(isfinite({number}) and {number} {op} {bound}, false)",
                        f"{_q(f'field {c.name}: ')} || {raw} || {_q(f' is {words} {bound:g}')}",
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


def typed_select(source: Source, stage: str, *, nested_lists: bool = True) -> str:
    """Every row of the stage relation, typed, with `_line` and `_valid` (false when any contract check fails;
    `nested_lists`: see `_checks`)."""
    inner = ", ".join(typed_expr(c) for c in source.columns)
    raws = "".join(f', {_text(c)} as "_raw_{c.name}"' for c in source.columns if c.type in CASTABLE)
    bad = " or ".join(cond for _, cond, _ in _checks(source, typed=True, nested_lists=nested_lists))
    defaults = {c.name: c.default for c in source.columns if c.default is not None}
    outer = ", ".join(
        f'coalesce("{c}", {d}) as "{c}"' if (d := defaults.get(c)) else f'"{c}"' for c in source.column_names
    )
    return f"""select _file_index, _line, not (_unparseable or _shape is not null or _dup is not null or {bad}) as _valid,
            {outer}
        from (select _file_index, _line, _unparseable, _shape, _dup, {inner}{raws} from ({stage}) _stage)"""


def reject_select(source: Source, stage: str) -> str:
    """`_line`, `_reject_field` (the first failing field) and `_reject_reason` (every problem) of the bad rows
    of the stage relation, judged on the text as read (the rare path, so clarity beats speed here)."""
    checks = _checks(source, typed=False)
    bad = " or ".join(cond for _, cond, _ in checks)
    reasons = ", ".join(f"case when {cond} then {why} end" for _, cond, why in checks)
    first = "case " + " ".join(f"when {cond} then {_q(f)}" for f, cond, _ in checks) + " end"
    return f"""select _line,
            case when _unparseable then null when _shape is not null then split_part(_shape, ', ', 1)
                 when _dup is not null then split_part(_dup, ', ', 1) else {first} end as _reject_field,
            case when _unparseable then 'unparseable record: not a JSON object with contract fields'
                 else concat_ws('; ', 'field ' || _shape || ': an object or list where the contract wants text',
                                'field ' || _dup || ': given more than once in one record (which value is evidence'
                                || ' would be a guess)',
                                {reasons}) end as _reject_reason
        from ({stage}) _stage where _unparseable or _shape is not null or _dup is not null or {bad}"""
