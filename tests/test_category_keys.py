"""The category-list keys of audit events (compliance.ingest.enrich.assign_category_keys, docs/database.md):
exact, stable across loads, and given to a database built before the column existed."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from compliance.ingest.enrich import assign_category_keys, register_sampled_lists
from compliance.ingest.tables import create_tables


def _database() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_tables(con)
    return con


def _add_events(con: duckdb.DuckDBPyConnection, lists: dict[str, list[str]]) -> None:
    """Audit events `event_id -> categories`, inserted unkeyed as the enrichment leaves a list new to the database."""
    for event_id, categories in lists.items():
        con.execute(
            "insert into audit_events by name select $id as event_id, $categories::varchar[] as categories",
            {"id": event_id, "categories": categories},
        ).fetchall()


def _keys(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, list[str]]]:
    """event_id -> (its key, the list the lookup gives for that key)."""
    rows = con.execute(
        """select e.event_id, e.categories_key, l.categories
           from audit_events e left join audit_category_lists l on l.categories_key = e.categories_key"""
    ).fetchall()
    return {event_id: (key, categories) for event_id, key, categories in rows}


def test_each_list_gets_one_key_that_names_it() -> None:
    con = _database()
    lists = {"a": ["user.name"], "b": ["user.contact.email", "user.name"], "c": ["user.name"], "d": []}
    _add_events(con, lists)
    assert assign_category_keys(con) == 4
    keys = _keys(con)
    assert {event_id: categories for event_id, (_, categories) in keys.items()} == lists
    assert keys["a"][0] == keys["c"][0]
    assert len({key for key, _ in keys.values()}) == 3
    assert con.sql("select count(*), count(distinct categories) from audit_category_lists").fetchall() == [(3, 3)]


def test_keys_stay_when_a_later_load_brings_a_new_list() -> None:
    con = _database()
    _add_events(con, {"a": ["user.name"], "b": ["user.financial"]})
    assign_category_keys(con)
    before = _keys(con)
    _add_events(con, {"c": ["user.biometric"], "d": ["user.name"]})
    assert assign_category_keys(con) == 2  # only the new events are keyed
    after = _keys(con)
    assert {k: after[k] for k in before} == before
    assert after["d"][0] == before["a"][0]
    assert after["c"] == (max(key for key, _ in before.values()) + 1, ["user.biometric"])


def test_an_older_database_gains_the_keys() -> None:
    con = _database()
    _add_events(con, {"a": ["user.name"], "b": ["user.financial", "user.name"]})
    con.execute("alter table audit_events drop column categories_key; drop table audit_category_lists").fetchall()
    assert create_tables(con)  # the load then publishes and rebuilds what is derived
    assert {event_id: categories for event_id, (_, categories) in _keys(con).items()} == {
        "a": ["user.name"],
        "b": ["user.financial", "user.name"],
    }
    assert not create_tables(con)  # once added, the database is current


def _jsonl(path: Path, lists: list[object]) -> Path:
    path.write_text(
        "".join(json.dumps({"event_id": f"e{i}", "data_categories": c}) + "\n" for i, c in enumerate(lists))
    )
    return path


def test_sampled_lists_are_keyed_in_the_form_the_enrichment_gives(tmp_path: Path) -> None:
    """Before a load, the lists its files give are keyed as the enrichment writes them: sorted, each category
    once, NULLs dropped; an empty or missing list, a value that is not a list and an unreadable line key nothing."""
    con = _database()
    a = _jsonl(tmp_path / "a.jsonl", [["user.name", "user.contact.email", "user.name", None], [], None, "user.name"])
    b = tmp_path / "b.jsonl"
    b.write_bytes(b'{"data_categories": ["user.financial"]}\n{not json\n\xff\xfe\n')
    register_sampled_lists(con, [a, b])
    lists = con.sql("select categories from audit_category_lists order by categories_key").fetchall()
    assert lists == [(["user.contact.email", "user.name"],), (["user.financial"],)]
    # The enrichment's first look-up: each form sent and each keyed list, beside its normal form and key.
    raw = con.sql(
        """select r.raw, r.categories, l.categories from _raw_category_lists r
           join audit_category_lists l on l.categories_key = r.categories_key order by r.raw"""
    ).fetchall()
    assert raw == [
        (["user.contact.email", "user.name"], ["user.contact.email", "user.name"], ["user.contact.email", "user.name"]),
        (["user.financial"], ["user.financial"], ["user.financial"]),
        (
            ["user.name", "user.contact.email", "user.name", None],
            ["user.contact.email", "user.name"],
            ["user.contact.email", "user.name"],
        ),
    ]
    register_sampled_lists(con, [a, b])  # again: nothing new
    assert con.sql("select count(*) from audit_category_lists").fetchall() == [(2,)]
    assert con.sql("select count(*) from _raw_category_lists").fetchall() == [(3,)]


def test_a_file_the_sample_cannot_read_is_left_to_the_load(tmp_path: Path) -> None:
    con = _database()
    broken = tmp_path / "day.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    register_sampled_lists(con, [broken, tmp_path / "missing.jsonl"])
    assert con.sql("select count(*) from audit_category_lists").fetchall() == [(0,)]


def test_a_line_too_long_to_sample_ends_that_files_sample(tmp_path: Path) -> None:
    """The sample reads lines of at most 1 MB (never a hostile line whole): the lines before a longer one are
    sampled, that line and the rest of its file are left to the load, and the other files are sampled as usual."""
    con = _database()
    long = tmp_path / "long.jsonl"
    lines = [
        {"data_categories": ["user.name"]},
        {"data_categories": ["user.financial"], "padding": "x" * (2 << 20)},
        {"data_categories": ["user.contact.email"]},
    ]
    long.write_text("".join(json.dumps(line) + "\n" for line in lines))
    other = _jsonl(tmp_path / "other.jsonl", [["user.location"]])
    register_sampled_lists(con, [long, other])
    lists = con.sql("select categories from audit_category_lists order by categories").fetchall()
    assert lists == [(["user.location"],), (["user.name"],)]
