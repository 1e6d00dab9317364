"""access.out_of_role's alarm is observed at the newest offending event of the day, also when the day holds more
offending events than its evidence lists (the 50 oldest): it once took the newest of those 50 instead."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

AS_OF = dt.date(2025, 3, 10)
EVIDENCE_CAP = 50


def test_observed_at_is_the_newest_offending_event_beyond_the_evidence_cap(control_findings) -> None:
    # support_agent may not export (data/policy/roles.yaml): 60 exports on one day, a minute apart from 09:00.
    start = dt.datetime(2025, 3, 4, 9, 0)
    exports = [
        audit_event(
            f"x-{i:02d}", "emp-a", str(start + dt.timedelta(minutes=i)), "export",
            actor_role="support_agent", resource_type="contact", categories=["user.name"], record_count=1,
            recipient="google.com",
        )
        for i in range(60)
    ]  # fmt: skip
    by = control_findings("access_out_of_role", {"audit_events": exports}, as_of=AS_OF)
    alarm = by["actor:emp-a@2025-03-04"]
    assert alarm["status"] == "alarm"
    assert alarm["observed_at"] == dt.datetime(2025, 3, 4, 9, 59)  # the 60th export, not the 50th (09:49)
    assert alarm["evidence"] == [f"x-{i:02d}" for i in range(EVIDENCE_CAP)]
    assert "(60 events, 60 records)" in alarm["reason"]
