"""The policy's ref_* tables (compliance.ingest.reference): written when the policy gives other tables, left as
they are when it gives the same ones (a daily load), and written again when one of them is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from compliance.config.bundle import DEFAULT_POLICY_DIR, load_policy
from compliance.ingest.reference import DIGEST_TABLE, reference_frames, write_reference_tables


def _roles(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select role, description from ref_roles order by role").fetchall()


def test_reference_tables_are_written_only_when_they_would_differ(tmp_path: Path) -> None:
    policy_dir = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, policy_dir)
    policy = load_policy(policy_dir)
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    assert write_reference_tables(con, policy)  # a new database
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert set(reference_frames(policy)) | {DIGEST_TABLE} <= tables
    before = _roles(con)
    assert not write_reference_tables(con, policy)  # the same policy: the same tables, left as they are
    assert not write_reference_tables(con, load_policy(policy_dir))  # loaded again from the same files
    assert _roles(con) == before
    # An edited role description changes one table: every table is written again, with the new text.
    roles_yaml = policy_dir / "roles.yaml"
    first = before[0]
    text = roles_yaml.read_text()
    assert first[1] in text
    roles_yaml.write_text(text.replace(first[1], first[1] + " (edited)", 1))
    assert write_reference_tables(con, load_policy(policy_dir))
    assert (first[0], first[1] + " (edited)") in _roles(con)
    # A table dropped since (by hand, or a database from before the table existed): written again.
    con.execute("drop table ref_regions").fetchall()
    assert write_reference_tables(con, load_policy(policy_dir))
    assert con.execute("select count(*) from ref_regions").fetchall()[0][0] == len(
        reference_frames(policy)["ref_regions"]
    )
