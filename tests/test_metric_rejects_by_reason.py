"""rejects_by_reason and rejects_sample on hand-made rejects (worked out by hand)."""

from __future__ import annotations

from compliance.queries import run_query


def _reject(file_id: str, path: str, line: int, field: str | None, reason: str, source: str = "audit") -> dict:
    return {"run_id": 1, "source": source, "file_id": file_id, "path": path, "line": line, "field": field,
            "reason": reason, "raw": "x" * 600 if line == 9 else f"raw {line}"}  # fmt: skip


REJECTS = [
    _reject("f2", "audit/2.jsonl", 9, "action", "unknown action"),
    _reject("f1", "audit/1.jsonl", 4, "action", "unknown action"),
    _reject("f1", "audit/1.jsonl", 2, None, "unparseable"),
    _reject("f3", "dsr/r.csv", 5, "received_at", "bad timestamp", "dsr"),
]


def test_rejects_by_reason(make_db, policy) -> None:
    out = run_query(make_db({"rejects": REJECTS}), "rejects_by_reason", {}, policy)
    # most rows first; the first example is the lowest path and line
    assert out.rows() == [
        ("audit", "action", "unknown action", 2, 2, "audit/1.jsonl", 4),
        ("audit", "(row)", "unparseable", 1, 1, "audit/1.jsonl", 2),
        ("dsr", "received_at", "bad timestamp", 1, 1, "dsr/r.csv", 5),
    ]


def test_rejects_sample(make_db, policy) -> None:
    con = make_db({"rejects": REJECTS})
    two = run_query(con, "rejects_sample", {"max_rows": 2}, policy)
    assert two.select("path", "line", "field").rows() == [("audit/1.jsonl", 2, None), ("audit/1.jsonl", 4, "action")]
    everything = run_query(con, "rejects_sample", {"max_rows": 10}, policy)
    assert everything.height == 4
    assert len(everything.filter(everything["line"] == 9)["raw"][0]) == 500  # cut
