"""declared_data_categories against the repository's data map (answers worked out by hand from data_map.yaml): a
category key is declared for a system when a data-map category of it equals or descends from it. Read by
datamap.undeclared_category and datamap_observed_vs_declared."""

from __future__ import annotations

from compliance.queries import run_query


def test_declared_data_categories(make_db, policy) -> None:
    con = make_db({})
    out = run_query(con, "declared_data_categories", {}, policy)
    systems = {key: sorted(out.filter(out["data_category"] == key)["system_id"].to_list()) for key in (
        "user.contact.email", "user.contact", "user.biometric.voice", "user.financial", "user.financial.bank_account",
        "user.content.private.call_recording", "user.content")}  # fmt: skip
    assert systems == {
        "user.contact.email": ["auth", "crm", "privacy-ops", "support-desk"],  # declared as such
        "user.contact": ["auth", "billing", "call-service", "crm", "privacy-ops", "support-desk"],  # their ancestor
        "user.biometric.voice": [],  # declared nowhere
        "user.financial": ["billing"],
        "user.financial.bank_account": [],  # finer than billing's user.financial: not declared
        "user.content.private.call_recording": ["call-service"],
        "user.content": ["call-service", "support-desk"],
    }
