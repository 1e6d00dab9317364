"""Hostile policy YAML: alias bombs, duplicate keys, oversized and malformed files are refused with a
message naming the file, while anchors used sensibly still load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from policy_support import policy_copy

from compliance.config.base import MAX_POLICY_BYTES, PolicyError, read_yaml
from compliance.config.bundle import load_policy

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)  # 10**9 strings once expanded


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (BOMB, "(file)", "expands to more than 100,000 values through aliases"),
        ("a: 1\nb: 2\na: 3\n", "line 3", "key 'a' is given twice in one mapping (first on line 1)"),
        ("outer:\n  k: 1\n  k: 1\n", "line 3", "key 'k' is given twice"),
        ("- &x [*x]\n", "line 1", "an alias refers to the value containing it"),
        ("[" * 5000 + "]" * 5000, "(file)", "nested more than 64 levels deep"),
        ("{a: " * 200 + "1" + "}" * 200, "(file)", "nested more than 64 levels deep"),  # under libyaml's own limit
        ("a: 1\nb: \x00\n", "(file)", "is not valid YAML"),  # a control character
        (b"name: caf\xe9\n", "(file)", "is not UTF-8 text"),
        ("a: [1, 2\n", "line 2", "is not valid YAML"),
        ("a: !!python/object/apply:os.system ['echo pwned']\n", "line 1", "is not valid YAML"),
        ("x" * (MAX_POLICY_BYTES + 1), "(file)", "is larger than 1024 KiB"),
    ],
    ids=["alias-bomb", "duplicate-key", "duplicate-nested-key", "self-alias", "deep-nesting", "deep-mappings",
         "nul-byte", "latin1",
         "unclosed", "python-tag", "oversized"],
)  # fmt: skip
@pytest.mark.parametrize("parser", ["libyaml", "python"])
def test_hostile_yaml_is_refused_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parser: str, text: str | bytes, where: str, problem: str
) -> None:
    import yaml

    import compliance.config.base as base

    if parser == "python":  # the fallback where PyYAML was built without libyaml
        monkeypatch.setattr(base, "_SAFE_LOADER", yaml.SafeLoader)
    elif not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML without libyaml here")
    path = tmp_path / "settings.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    started = time.perf_counter()
    with pytest.raises(PolicyError) as err:
        read_yaml(path)
    assert time.perf_counter() - started < 30  # refused before expansion, not after gigabytes
    assert err.value.file == str(path) and err.value.key.startswith(where.split(" ")[0])
    assert err.value.key == where or where == "(file)"
    assert problem in err.value.problem


def test_sensible_anchors_and_merge_keys_still_load(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("base: &b {hours: 8, days: [1, 2]}\nteam_a:\n  <<: *b\n  hours: 9\nteam_b: *b\n")
    assert read_yaml(path) == {
        "base": {"hours": 8, "days": [1, 2]},
        "team_a": {"hours": 9, "days": [1, 2]},
        "team_b": {"hours": 8, "days": [1, 2]},
    }


def test_a_duplicate_key_in_a_shipped_policy_file_stops_the_load(tmp_path: Path) -> None:
    d = policy_copy(tmp_path / "policy")
    settings = d / "settings.yaml"
    first = next(
        line
        for line in settings.read_text().splitlines()
        if line and not line[0].isspace() and ":" in line and not line.startswith("#")
    )
    settings.write_text(settings.read_text() + "\n" + first + "\n")
    with pytest.raises(PolicyError, match=r"settings\.yaml: line \d+: key .* is given twice"):
        load_policy(d)
