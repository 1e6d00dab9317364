"""A third export bundle, shaped unlike the demo (issue 18): the rhythm bundle (tests/rhythm_bundle.py, audited as
of 2025-06-02) plus a DSR export that ends on 2025-03-31, 63 days before the as-of date, and a small records
inventory of the support desk.

- DSR (every request closed, the newest received 2025-03-31): R-ONTIME (EU access, closed early), R-LATE (EU
  delete of subject sub_gone, completed 2025-03-31, weeks past its one-month deadline), R-CA (US-CA access, on
  time), R-REJ (UK access, rejected), R-LAST (EU access received and withdrawn on 2025-03-31). No request is open,
  yet nothing received since March is in the data: the pages must say so rather than show good news.
- Inventory (snapshot 2025-06-01, support-desk/tickets): 40 tickets well within retention; 3 past retention
  (support conversations whose last reply is over two years old, and a name kept after its customer's contract
  ended); 1 such record on legal hold; 2 tickets of sub_gone left behind by the incomplete erasure of R-LATE.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

from tests.rhythm_bundle import AS_OF, DSR_HEADER, write_rhythm_bundle

DSR_ENDS = date(2025, 3, 31)  # 63 days before AS_OF
SNAPSHOT = datetime(2025, 6, 1, 23, 0)
INVENTORY_HEADER = (
    "snapshot_at,system,store,record_id,subject_id,tenant_id,data_category,created_at,last_activity_at,"
    "contract_ended_at,deleted_at,deidentified_at,legal_hold"
)
REQUESTS = [
    # request_id, subject, jurisdiction, type, received, acknowledged, completed, status, reason
    ("R-ONTIME", "sub_a", "EU", "access", "2025-01-06T09:00:00Z", "2025-01-06T12:00:00Z", "2025-01-20T10:00:00Z",
     "completed", "fulfilled"),
    ("R-LATE", "sub_gone", "EU", "delete", "2025-01-10T09:00:00Z", "2025-01-11T09:00:00Z", "2025-03-31T10:00:00Z",
     "completed", "fulfilled"),
    ("R-CA", "sub_c", "US-CA", "access", "2025-03-03T15:00:00Z", "2025-03-04T15:00:00Z", "2025-03-28T15:00:00Z",
     "completed", "fulfilled"),
    ("R-REJ", "sub_d", "UK", "access", "2025-02-03T10:00:00Z", "2025-02-04T10:00:00Z", "2025-02-20T10:00:00Z",
     "rejected", "identity not verified"),
    ("R-LAST", "sub_e", "EU", "access", "2025-03-31T08:00:00Z", "2025-03-31T09:00:00Z", "2025-03-31T17:00:00Z",
     "withdrawn", "withdrawn by the subject"),
]  # fmt: skip
STALE_DAYS_BEHIND = (AS_OF - DSR_ENDS).days


def _iso(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


def inventory_rows() -> list[list[str]]:
    rows: list[list[str]] = []

    def record(n: str, subject: str, category: str, created: datetime, last: datetime | None = None,
               contract_end: datetime | None = None, hold: bool = False) -> None:  # fmt: skip
        rows.append([
            _iso(SNAPSHOT), "support-desk", "tickets", n, subject, "ten_1", category, _iso(created), _iso(last),
            _iso(contract_end), "", "", "true" if hold else "false",
        ])  # fmt: skip

    for i in range(40):
        day = datetime(2025, 3, 1) + timedelta(days=i)
        record(f"t_ok_{i:02d}", f"sub_ok_{i:02d}", "user.content.private", day, day + timedelta(days=3))
    record("t_old_1", "sub_old_1", "user.content.private", datetime(2022, 1, 5), datetime(2023, 2, 1))
    record("t_old_2", "sub_old_2", "user.content.private", datetime(2022, 3, 5), datetime(2023, 4, 20))
    record("t_name", "sub_old_3", "user.name", datetime(2023, 5, 1), contract_end=datetime(2024, 12, 1))
    record("t_hold", "sub_old_4", "user.content.private", datetime(2021, 6, 1), datetime(2022, 6, 1), hold=True)
    record("t_gone_1", "sub_gone", "user.content.private", datetime(2025, 1, 2), datetime(2025, 1, 8))
    record("t_gone_2", "sub_gone", "user.contact.email", datetime(2025, 1, 2), datetime(2025, 1, 8))
    return rows


def write_stale_bundle(out: Path) -> Path:
    """The rhythm bundle under `out`, with the stale DSR export and the inventory; returns `out`."""
    write_rhythm_bundle(out)
    with (out / "dsr" / "requests.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(DSR_HEADER.split(","))
        for rid, subject, jur, kind, received, ack, completed, status, reason in REQUESTS:
            writer.writerow([rid, subject, jur, kind, "email", received, ack, ack, "", "", completed, status, reason])
    (out / "inventory").mkdir(exist_ok=True)
    with (out / "inventory" / "support-desk.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(INVENTORY_HEADER.split(","))
        writer.writerows(inventory_rows())
    return out
