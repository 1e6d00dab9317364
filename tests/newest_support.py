"""The check of the newest events the rollups keep (compliance.ingest.derive.ROLLUP_NEWEST): each kept list is the
day's 20 newest (time, id) of the events the rollup counts, found here by a ranking window instead of the ingest's
top-n aggregate."""

from __future__ import annotations

import duckdb

from compliance.ingest.derive import ROLLUP_NEWEST
from compliance.queries import get_query


def kept_newest_lists(con: duckdb.DuckDBPyConnection) -> tuple[int, list[tuple]]:
    """(how many rollup rows keep a list, the rows whose list is not their day's 20 newest events)."""
    kept, wrong = 0, []
    for newest in ROLLUP_NEWEST:
        keys = ", ".join(newest.keys)
        same = " and ".join(f"d.{k} is not distinct from t.{k}" for k in newest.keys)
        truth = f"""
            select {keys}, event_date,
                   list({{'occurred_at': occurred_at, 'event_id': event_id}}
                        order by occurred_at desc, event_id desc) as newest
            from (
                select *, row_number() over (
                    partition by {keys}, event_date order by occurred_at desc, event_id desc
                ) as rn
                from ({get_query(newest.events).sql})
            ) where rn <= 20
            group by {keys}, event_date"""
        kept += con.execute(f"select count(*) from {newest.days} where newest_events is not null").fetchall()[0][0]
        wrong += con.execute(
            f"""select '{newest.days}', d.* from {newest.days} as d
                left join ({truth}) as t on t.event_date = d.event_date and {same}
                where d.newest_events is not null and d.newest_events is distinct from t.newest"""
        ).fetchall()
    return kept, wrong
