"""Policy-as-code validation: every kind of mistake names the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_support import policy_copy, replace_text

from compliance.config.base import PolicyError
from compliance.config.bundle import load_policy


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return policy_copy(tmp_path / "policy")


def test_shipped_policy_is_valid() -> None:
    p = load_policy()
    assert p.version == "v0.2"
    assert p.text.section_ids == ("PS", "1", "2", "3", "4", "5", "6", "7", "8", "9")
    # Every category section 2 names and every use section 3 names is a fideslang key (or a Capantra leaf).
    assert all(p.taxonomy.is_category(k) for keys in p.policy_map.categories.values() for k in keys)
    assert all(p.taxonomy.is_use(k) for keys in p.policy_map.uses.values() for k in keys)
    assert p.parameters()["volume_spike_robust_z"] == 6.0


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "problem"),
    [
        ("data_map.yaml", "user.contact.organization, user.job_title]", "user.contact.organisation, user.job_title]",
         "systems[0].stores[0].data_categories[3]", "'user.contact.organisation' is not a known data category"),
        ("data_map.yaml", 'policy_sections: ["2", "3", "4", "6"]', 'policy_sections: ["2", "3", "4", "10"]',
         "systems[0].policy_sections[3]", "'10' is not a known policy section"),
        ("retention.yaml", "period_days: 90, clock: created_at", "period_days: -90, clock: created_at",
         "records[0].period_days", "greater than or equal to 0"),
        ("roles.yaml", "data_categories: [user.behavior.product_usage, user.device.device_id, user.location.imprecise]\n    actions: [read, search, export]",
         "data_categories: [user.biometric.voice]\n    actions: [read, search, export]",
         "roles[5].data_categories[0]",
         "role 'data_analyst' grants 'user.biometric.voice', a category the data map does not declare"),
        ("recipients.yaml", "data_categories: [user.name, user.contact.email, user.content.private]",
         "data_categories: [user.name, user.biometric.voice]",
         "recipients[2].data_categories[1]", "'user.biometric.voice' is not a category the data map declares"),
        ("data_map.yaml", "use: essential.service, legal_basis: contract}", "use: essential.servise, legal_basis: contract}",
         "systems[0].uses[0].use", "not a known fideslang data use"),
        ("data_map.yaml", "legal_basis: contract}", "legal_basis: contractual}", "systems[0].uses[0].legal_basis", "Input should be"),
        ("settings.yaml", "  due_soon_days: 7", "  due_soon_dayz: 7", "dsr.due_soon_dayz", "is not a known key"),
        ("recipients.yaml", "country: US\n    mechanism: sccs", "country: USA\n    mechanism: sccs", "recipients[1].country", "should match pattern"),
        ("transfers.yaml", "    us-east: dpf", "    us-west: dpf", "rules.EU[1]", "'us-west' is not a known processing region"),
        ("taxonomy.yaml", "parent_key: user.behavior\n    name: Call", "parent_key: user.behaviour\n    name: Call",
         "data_categories[0].parent_key", "not in the fideslang taxonomy"),
        ("policy_map.yaml", '  "Usage analytics and diagnostic logs":', '  "Usage analytics":',
         "categories", "section 2 item 'Usage analytics and diagnostic logs' has no mapping"),
        ("roles.yaml", "may_grant_roles: [it_admin, platform_admin]", "may_grant_roles: [it_admin, root]",
         "may_grant_roles[1]", "'root' is not a known role"),
    ],
)  # fmt: skip
def test_mistakes_name_file_key_and_problem(
    policy_dir: Path, file: str, old: str, new: str, key: str, problem: str
) -> None:
    replace_text(policy_dir / file, old, new)
    with pytest.raises(PolicyError) as err:
        load_policy(policy_dir)
    assert err.value.file.endswith(file)
    assert err.value.key == key
    assert problem in err.value.problem
    assert str(err.value).startswith(str(policy_dir / file))


def test_policy_text_edit_without_mapping_fails(policy_dir: Path) -> None:
    replace_text(
        policy_dir / "privacy-policy-v0.2.md",
        "- Compliance with legal obligations",
        "- Compliance with legal obligations\n- Marketing",
    )
    with pytest.raises(PolicyError, match=r"section 3 item 'Marketing' has no mapping"):
        load_policy(policy_dir)


def test_invalid_yaml_names_the_line(policy_dir: Path) -> None:
    (policy_dir / "settings.yaml").write_text("business_hours: [\n  start_hour: 7\n")
    with pytest.raises(PolicyError) as err:
        load_policy(policy_dir)
    assert err.value.key.startswith("line ")
    assert "not valid YAML" in err.value.problem
