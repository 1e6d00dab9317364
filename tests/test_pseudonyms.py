"""compliance.pseudonyms: keyed 64-bit pseudonyms, the per-deployment key, redaction and masking."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import stat

import pytest

from compliance import pseudonyms
from compliance.pseudonyms import DIGITS, mask_raw_text, phrase_ids, pseudonym_key, pseudonymise, redact_text
from compliance.reports import pseudonymise as reexported

KEY = "k" * 40


@pytest.fixture(autouse=True)
def _fresh_key(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv(pseudonyms.KEY_ENV, raising=False)
    monkeypatch.delenv(pseudonyms.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(pseudonyms.STATE_DIR_ENV, str(tmp_path / "state"))
    pseudonyms._key.cache_clear()


def test_a_pseudonym_is_16_hex_digits_of_hmac_sha256() -> None:
    expected = hmac.new(KEY.encode(), b"emp_0071", hashlib.sha256).hexdigest()[:16]
    assert pseudonymise("emp_0071", KEY) == expected
    assert pseudonymise("emp_0071", KEY, prefix="A-") == "A-" + expected
    assert DIGITS * 4 == 64 and len(expected) == 16
    assert pseudonymise(None, KEY) is None
    assert reexported is pseudonymise  # the old import path still works


def test_another_key_gives_other_pseudonyms_and_a_plain_hash_does_not_reverse_them() -> None:
    a, b = pseudonymise("emp_0071", KEY), pseudonymise("emp_0071", "j" * 40)
    assert a != b
    # The old scheme (SHA-256 of salt + id) and an unkeyed hash of the id match neither.
    assert a not in (
        hashlib.sha256(b"emp_0071").hexdigest()[:16],
        hashlib.sha256(b"capantra-complianceemp_0071").hexdigest()[:16],
    )


def test_the_key_is_generated_once_outside_the_repository_with_mode_0600(tmp_path) -> None:
    key = pseudonym_key()
    path = tmp_path / "state" / "pseudonym.key"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64  # 256 random bits, hex
    pseudonyms._key.cache_clear()
    assert pseudonym_key() == key  # read back, not regenerated
    assert pseudonymise("x") == pseudonymise("x", key)


def test_the_key_from_the_environment_wins_and_must_be_long(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(pseudonyms.KEY_ENV, KEY)
    assert pseudonymise("x") == pseudonymise("x", KEY)
    assert not (tmp_path / "state" / "pseudonym.key").exists()
    monkeypatch.setenv(pseudonyms.KEY_ENV, "short")
    with pytest.raises(ValueError, match="at least 32"):
        pseudonymise("x")


def test_a_short_key_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    path = tmp_path / "weak.key"
    path.write_text("abc\n")
    monkeypatch.setenv(pseudonyms.KEY_FILE_ENV, str(path))
    with pytest.raises(ValueError, match="shorter than"):
        pseudonym_key()


def test_redact_text_replaces_known_ids_and_ip_addresses() -> None:
    kinds = {"emp_1": "A-", "sub_9": "S-"}
    a, s = pseudonymise("emp_1", KEY, "A-"), pseudonymise("sub_9", KEY, "S-")
    ip4, ip6 = pseudonymise("10.0.0.7", KEY, "IP-"), pseudonymise("2001:db8::1", KEY, "IP-")
    text = "emp_1 read sub_9. emp_10 did not; emp_1@2025-01-31 and (emp_1) did from 10.0.0.7, 2001:db8::1."
    assert redact_text(text, kinds, KEY) == (
        f"{a} read {s}. emp_10 did not; {a}@2025-01-31 and ({a}) did from {ip4}, {ip6}."
    )
    assert redact_text("actor:emp_1@2025-01-31", kinds, KEY) == f"actor:{a}@2025-01-31"
    assert redact_text(None, kinds, KEY) is None
    assert redact_text("nothing to hide", {}, KEY) == "nothing to hide"


@pytest.mark.parametrize(
    ("raw", "hidden", "kept"),
    [
        ('{"actor_id": "emp_0071", "ts": "2025-13-01T00:00:00Z"}', ["emp_0071"], ["actor_id", "2025-13-01T00:00:00Z"]),
        (
            "u-83f2,jane.doe@example.com,10.1.2.3,read,12",
            ["u-83f2", "jane.doe@example.com", "10.1.2.3"],
            ["read", "12"],
        ),
        ('{"subject_id": "CUST-99812", "action": "erase"', ["CUST-99812"], ["subject_id", "erase"]),
        ("", [], []),
    ],
)
def test_raw_reject_text_is_masked(raw: str, hidden: list[str], kept: list[str]) -> None:
    masked = mask_raw_text(raw, {}, KEY) or ""
    for value in hidden:
        assert value not in masked
    for value in kept:
        assert value in masked


def test_the_prefix_tree_pattern_matches_what_the_longest_first_alternation_matches() -> None:
    """`phrase_ids` shapes the ids as a prefix tree (fast with thousands of ids): at each position it must match the
    longest id there, as an alternation of the ids longest first does; ids built to share prefixes, nest in one
    another and end where others go on."""
    rng = random.Random(7)
    parts = ["arn:aws:iam::1:user/", "Jane", " ", "Doe", "'", ";--", "a", "ab", "b/"]
    matched = 0
    for _ in range(300):
        ids = sorted({"".join(rng.choices(parts, k=rng.randint(1, 4))) for _ in range(rng.randint(1, 12))})
        text = " by ".join("".join(rng.choices(parts, k=rng.randint(1, 6))) for _ in range(5))
        tree = re.compile(pseudonyms._trie_pattern(ids))
        alternation = re.compile("|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)))
        spans = [m.span() for m in alternation.finditer(text)]
        assert [m.span() for m in tree.finditer(text)] == spans, (ids, text)
        matched += len(spans)
    assert matched > 1000


def test_phrase_ids_holds_only_the_ids_the_word_pass_cannot_see() -> None:
    kinds = {"emp_1": "A-", "jane@x.io": "A-", "Jane Doe": "S-", "arn:aws:iam::1:user/ops": "A-", "emp-": "A-"}
    pattern = phrase_ids(kinds)
    assert pattern is not None
    assert [m.group(0) for m in pattern.finditer(" ".join(kinds))] == ["Jane Doe", "arn:aws:iam::1:user/ops", "emp-"]
    assert phrase_ids({"emp_1": "A-", "jane@x.io": "A-"}) is None
