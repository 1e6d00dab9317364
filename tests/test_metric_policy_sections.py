"""policy_sections on a database loaded with the repository's policy (data/policy/privacy-policy-v0.2.md)."""

from __future__ import annotations

from compliance.queries import run_query


def test_policy_sections(make_db, policy) -> None:
    out = run_query(make_db({}), "policy_sections", {}, policy)
    # The document's order: the procurement summary first, then the numbered sections.
    assert out.select("section_id", "section_order", "title").rows() == [
        ("PS", 0, "Procurement summary"),
        ("1", 1, "Scope"),
        ("2", 2, "Information We Process"),
        ("3", 3, "How We Use Information"),
        ("4", 4, "Legal Basis (GDPR)"),
        ("5", 5, "Security"),
        ("6", 6, "Retention"),
        ("7", 7, "International Transfers"),
        ("8", 8, "Your Rights"),
        ("9", 9, "Contact"),
    ]
    assert set(out["policy_version"]) == {"v0.2"}
    assert out.filter(out["section_id"] == "9")["text"][0] == "Privacy enquiries and requests: privacy@capantra.com"
