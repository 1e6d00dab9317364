"""Dashboard roles from an identity provider's claims (dashboard.auth.roles_from_claims), table-driven:
groups mapped through `[compliance.oidc.role_groups]`, or taken as role names when no mapping is set;
anything unknown or malformed grants nothing."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.auth import roles_from_claims

MAPPED = {
    "roles_claim": "groups",
    "role_groups": {"investigator": ["privacy-investigators"], "admin": ["privacy-admins", "it-admins"]},
}
CUSTOM_CLAIM = {"roles_claim": "https://example.com/roles", "role_groups": {"auditor": ["external-audit"]}}


@pytest.mark.parametrize(
    ("claims", "settings", "roles"),
    [
        ({"groups": ["privacy-investigators"]}, MAPPED, ("investigator",)),
        # Several groups, several roles, in the project's role order (not the claim's).
        ({"groups": ["privacy-admins", "privacy-investigators"]}, MAPPED, ("investigator", "admin")),
        ({"groups": ["it-admins"]}, MAPPED, ("admin",)),  # one of a role's groups is enough
        ({"groups": "privacy-admins"}, MAPPED, ("admin",)),  # a single group as a string
        ({"groups": ["marketing"]}, MAPPED, ()),  # no known group: no role
        ({"groups": []}, MAPPED, ()),
        ({"email": "x@example.com"}, MAPPED, ()),  # no claim at all
        # With a mapping, a group that merely spells a role name grants nothing.
        ({"groups": ["admin", "auditor"]}, MAPPED, ()),
        ({"groups": ["Privacy-Admins"]}, MAPPED, ()),  # names are compared exactly
        # Malformed claims: a number, an object (whose keys are not groups), a list with non-strings.
        ({"groups": 7}, MAPPED, ()),
        ({"groups": {"privacy-admins": True}}, MAPPED, ()),
        ({"groups": [["privacy-admins"], None, 3, "privacy-investigators"]}, MAPPED, ("investigator",)),
        # A provider's own claim name (Auth0-style namespaced claim), mapped.
        ({"https://example.com/roles": ["external-audit"], "groups": ["privacy-admins"]}, CUSTOM_CLAIM, ("auditor",)),
        # No mapping configured: the claim's values are the role names; unknown ones are dropped.
        ({"groups": ["viewer", "auditor", "superuser"]}, {}, ("viewer", "auditor")),
        ({"groups": {"admin": True}}, {}, ()),
    ],
)
def test_roles_from_claims(claims: dict[str, Any], settings: dict[str, Any], roles: tuple[str, ...]) -> None:
    assert roles_from_claims(claims, settings) == roles
