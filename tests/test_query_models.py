"""Shared models (queries/models/): a query names a model like a table; it runs alone with the model inlined as
a CTE, and a check computes each model once and reads the stored table."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from pathlib import Path

import duckdb
import pytest

from compliance.controls import materialised_models
from compliance.ingest import derive
from compliance.queries import QueryError, get_query, load_queries, parse_query, run_query

HEADER = "-- name: {name}\n-- description: {name}.\n-- params: {params}\n-- returns: {returns}\n"


def _write(root: Path, kind: str, name: str, body: str, params: str = "", returns: str = "n BIGINT") -> Path:
    path = root / kind / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(name=name, params=params, returns=returns) + body)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    _write(tmp_path, "models", "base_days", "with d as (\n    select range as n from range($upto)\n)\n\nselect * from d\n",
           params="upto BIGINT")  # fmt: skip
    _write(tmp_path, "models", "even_days", "select n from base_days where n % 2 = 0\n", params="upto BIGINT")
    return tmp_path


def test_a_query_runs_alone_with_its_models_inlined(root: Path) -> None:
    path = _write(root, "metrics", "evens", "-- a comment before the chain\nwith d as (\n    select n from even_days\n)\n\n"
                  "select count(*) as n from d\n", params="upto BIGINT")  # fmt: skip
    q = parse_query(path)
    assert [m.name for m in q.models] == ["base_days", "even_days"]  # each after the models it uses
    assert q.used_params == {"upto"}  # the models' parameters are the query's
    assert run_query(duckdb.connect(), q, {"upto": 10}).rows() == [(5,)]
    plain = _write(root, "metrics", "plain", "select count(*) as n from base_days\n", params="upto BIGINT")
    assert run_query(duckdb.connect(), parse_query(plain), {"upto": 3}).rows() == [(3,)]


def test_a_stored_model_is_read_instead(root: Path) -> None:
    q = parse_query(_write(root, "metrics", "evens", "select count(*) as n from even_days\n", params="upto BIGINT"))
    con = duckdb.connect()
    con.execute("create table stored_evens as select 42 as n").fetchall()
    assert run_query(con, q, {"upto": 10}, stored={"even_days": "stored_evens"}).rows() == [(1,)]
    assert "base_days" not in q.sql_with({"even_days": "stored_evens"})


def test_the_digest_covers_the_models(root: Path) -> None:
    path = _write(root, "metrics", "evens", "select count(*) as n from even_days\n", params="upto BIGINT")
    before = parse_query(path).digest
    _write(root, "models", "even_days", "select n from base_days where n % 2 = 1\n", params="upto BIGINT")
    assert parse_query(path).digest != before


def test_a_cte_may_not_hide_a_model(root: Path) -> None:
    path = _write(root, "metrics", "bad", "with base_days as (select 1 as n)\nselect n from base_days\n")
    with pytest.raises(QueryError, match="hides the model"):
        parse_query(path)


def test_models_may_not_use_each_other_in_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path, "models", "m_one", "select n from m_two\n")
    _write(tmp_path, "models", "m_two", "select n from m_one\n")
    with pytest.raises(QueryError, match="cycle"):
        parse_query(tmp_path / "models" / "m_one.sql")


def test_every_model_is_used_and_documented() -> None:
    queries = load_queries()
    models = {q.name for q in queries.values() if q.kind == "models"}
    # Read by a query, or by the ingest's rollups (compliance.ingest.derive names each with get_query).
    at_ingest = set(re.findall(r'get_query\("(\w+)"\)', inspect.getsource(derive)))
    assert at_ingest >= {"audit_bulk_rule", "audit_local_times"}
    used = {m.name for q in queries.values() for m in q.models} | at_ingest
    assert models, "no models under queries/models"
    assert models == used, f"models no query uses: {sorted(models - used)}"


def test_a_check_builds_each_model_once_and_reads_it(make_db, policy) -> None:
    con = make_db({"inventory_records": [{
        "snapshot_at": "2025-03-09 00:00:00", "system": "crm", "store": "contacts", "record_id": "c1",
        "data_category": "user.contact.email", "created_at": "2024-01-01 00:00:00",
        "contract_ended_at": "2024-06-01 00:00:00"}]})  # fmt: skip
    control = get_query("retention_record_past_retention")
    metric = get_query("retention_by_category_age")
    as_of = dt.date(2025, 3, 10)
    inline = [run_query(con, q, {"as_of": as_of}, policy) for q in (control, metric)]
    with materialised_models(con, [control, metric], policy, as_of) as stored:
        assert sorted(stored) == ["inventory_retention_as_of", "inventory_retention_due"]
        sql = control.sql_with(stored)
        assert f"select * from {stored['inventory_retention_as_of']}" in sql
        assert "inventory_retention_due" not in sql  # only the stored model it reads is needed
        read = [run_query(con, q, {"as_of": as_of}, policy, stored) for q in (control, metric)]
        store = stored["inventory_retention_due"].split(".")[0]
    assert [f.rows() for f in read] == [f.rows() for f in inline]
    assert inline[0]["status"].to_list() == ["alarm"]
    attached = {r[0] for r in con.sql("select database_name from duckdb_databases()").fetchall()}
    assert store not in attached  # the run's store is gone with the run
