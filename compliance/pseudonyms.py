"""Keyed pseudonyms for the people in the logs (actors, subjects, IP addresses), and masking of raw text.

A pseudonym is `prefix` + the first 16 hex digits (64 bits) of HMAC-SHA-256(key, value). With a
secret key, a table of plausible ids hashed elsewhere cannot reverse it (as it could a salted hash
with a salt in the code); 64 bits keep collisions unlikely far past millions of people.

The key belongs to one deployment: `COMPLIANCE_PSEUDONYM_KEY` in the environment (at least 32
characters), else the file named by `COMPLIANCE_PSEUDONYM_KEY_FILE`, else
`~/.config/capantra-compliance/pseudonym.key`, generated on first use with mode 0600. It lives
outside the repository, so a clone or a shared notebook never carries it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "DIGITS",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "is_pseudonym",
    "mask_raw_text",
    "phrase_ids",
    "pseudonym_key",
    "pseudonymise",
    "redact_phrases",
    "redact_text",
]

KEY_ENV = "COMPLIANCE_PSEUDONYM_KEY"
KEY_FILE_ENV = "COMPLIANCE_PSEUDONYM_KEY_FILE"
STATE_DIR_ENV = "COMPLIANCE_HOME"  # where the key, accounts and (by default) nothing else live
DIGITS = 16  # hex digits shown: 64 bits
MIN_KEY_CHARS = 32
IP_PREFIX, EMAIL_PREFIX, TOKEN_PREFIX = "IP-", "E-", "X-"


def state_dir() -> Path:
    """The deployment's private folder (key, local accounts): `COMPLIANCE_HOME`, else ~/.config/capantra-compliance."""
    env = os.environ.get(STATE_DIR_ENV)
    return Path(env) if env else Path.home() / ".config" / "capantra-compliance"


def key_file() -> Path:
    env = os.environ.get(KEY_FILE_ENV)
    return Path(env) if env else state_dir() / "pseudonym.key"


def _read_or_create(path: Path) -> bytes:
    """The key in `path`, created (random 256 bits, hex, mode 0600) when the file does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        text = path.read_text(encoding="utf-8").strip()
        if len(text) < MIN_KEY_CHARS:
            raise ValueError(f"{path}: the pseudonym key is shorter than {MIN_KEY_CHARS} characters") from None
        return text.encode("utf-8")
    text = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    return text.encode("utf-8")


@lru_cache(maxsize=4)
def _key(env_value: str | None, path: str) -> bytes:
    if env_value is not None:
        if len(env_value) < MIN_KEY_CHARS:
            raise ValueError(f"{KEY_ENV} must hold at least {MIN_KEY_CHARS} characters")
        return env_value.encode("utf-8")
    return _read_or_create(Path(path))


def pseudonym_key() -> bytes:
    """This deployment's key (environment, else the key file, created on first use)."""
    return _key(os.environ.get(KEY_ENV), str(key_file()))


def pseudonymise(value: str | None, key: bytes | str | None = None, prefix: str = "") -> str | None:
    """`prefix` + 16 hex digits of HMAC-SHA-256(key, value); stable for one key, unlinkable across keys."""
    if value is None:
        return None
    k = pseudonym_key() if key is None else (key.encode("utf-8") if isinstance(key, str) else key)
    digest = hmac.new(k, value.encode("utf-8"), hashlib.sha256).hexdigest()[:DIGITS]
    return f"{prefix}{digest}"


_WORD = re.compile(r"[\w@+.:-]+")


def _ip(token: str) -> str | None:
    """`token` as an IP address (v4 or v6, a trailing port or punctuation allowed), else None."""
    core = token.strip(".:,;()[]")
    for candidate in (core, core.rsplit(":", 1)[0] if core.count(":") == 1 else None):
        if candidate:
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                continue
    return None


def phrase_ids(kinds: Mapping[str, str]) -> re.Pattern[str] | None:
    """The known ids that the word-by-word pass of `redact_text` cannot see, longest first, as one pattern.

    An export may name an actor `cust'; drop table x;--` or `Jane Doe`: such an id is several words (or ends
    in punctuation that the word pass strips), so it must be replaced as a whole substring. Longest first,
    so an id that contains another is replaced whole. None when every known id is one word. One scan of
    `kinds`: a caller that redacts many texts computes it once and passes it on.
    """
    phrases = [i for i in kinds if i and (not _WORD.fullmatch(i) or i != i.rstrip(".-:"))]
    if not phrases:
        return None
    try:
        return re.compile(_trie_pattern(phrases))
    except (RecursionError, re.error):  # ids branching at thousands of depths: the plain alternation
        return re.compile("|".join(re.escape(i) for i in sorted(phrases, key=len, reverse=True)))


def _trie_pattern(words: list[str]) -> str:
    """One regex matching any of `words`, longest first, shaped as their prefix tree: a plain alternation tries
    every word at every position of a text (10,000 ids of two words: 2 ms a reason), the tree one branch per
    character (CloudTrail ARNs share `arn:aws:` and differ after it)."""
    root: dict[str, dict] = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def pattern(node: dict[str, dict]) -> str:
        chain = []
        while len(node) == 1 and "" not in node:  # one way on: no group needed
            ch, node = next(iter(node.items()))
            chain.append(re.escape(ch))
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return "".join(chain)
        group = f"(?:{'|'.join(branches)})"
        return "".join(chain) + (f"{group}?" if "" in node else group)  # greedy: the longer word first

    return pattern(root)


def redact_phrases(
    text: str, kinds: Mapping[str, str], phrases: re.Pattern[str] | None, key: bytes | str | None = None
) -> str:
    """`text` with every known id matched by `phrases` (from `phrase_ids`) replaced by its pseudonym."""
    if phrases is None:
        return text
    return phrases.sub(lambda m: pseudonymise(m.group(0), key, kinds[m.group(0)]) or "", text)


_UNSET: Any = object()


def redact_text(
    text: str | None,
    kinds: Mapping[str, str],
    key: bytes | str | None = None,
    phrases: re.Pattern[str] | None = _UNSET,
) -> str | None:
    """`text` with every known id replaced by its pseudonym, and every IP address by its own.

    `kinds` maps each known id to the prefix of its pseudonym (e.g. 'A-' for actors, 'S-' for
    subjects). Used on control reasons, which name actors, subjects and addresses in plain words; a
    dict lookup per word keeps it linear however many ids the database knows. Ids that are not one
    word are replaced first, as whole substrings (`phrases`, from `phrase_ids(kinds)`: computed here
    when not given).
    """
    if not text:
        return text
    if phrases is _UNSET:
        phrases = phrase_ids(kinds)
    text = redact_phrases(text, kinds, phrases, key)

    def word(token: str) -> str:
        core = token.rstrip(".-:")  # sentence punctuation after an id
        prefix = kinds.get(core)
        if prefix is not None:
            return f"{pseudonymise(core, key, prefix)}{token[len(core) :]}"
        if ip := _ip(token):
            body = token.rstrip(".:,;")  # keep sentence punctuation after the address
            return f"{pseudonymise(ip, key, IP_PREFIX)}{token[len(body) :]}"
        if "@" in token:  # `actor@2025-01-31`-style keys: each side
            return "@".join(word(part) for part in token.split("@"))
        if ":" in token:  # `actor:emp_1`-style keys: the kind, then the rest (an IPv6 address stays whole)
            kind, _, rest = token.partition(":")
            return f"{word(kind)}:{word(rest)}"
        return token

    return _WORD.sub(lambda m: word(m.group(0)), text)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DATEISH = re.compile(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")
_PSEUDONYM = re.compile(rf"[A-Z]{{1,2}}-[0-9a-f]{{{DIGITS}}}")
_ID_LIKE = re.compile(r"[A-Za-z0-9][\w.-]*\d[\w.-]*|[\w.-]*\d[\w.-]*[A-Za-z][\w.-]*")


def is_pseudonym(value: str) -> bool:
    """Whether `value` has the form of a pseudonym (`A-` + 16 hex digits), so is not pseudonymised twice."""
    return _PSEUDONYM.fullmatch(value) is not None


def mask_raw_text(
    text: str | None,
    kinds: Mapping[str, str],
    key: bytes | str | None = None,
    phrases: re.Pattern[str] | None = _UNSET,
) -> str | None:
    """A raw export line (a rejected row) with anything that may name a person masked.

    Rejected rows failed the contract, so their ids may be ones the database does not know: besides
    the known ids and IP addresses (as `redact_text`), e-mail addresses and every id-like token
    (letters and digits mixed, e.g. `emp_0071`, `u-83f2`) become pseudonyms; timestamps, plain
    numbers and words stay, so the reason a row was rejected can still be seen.
    """
    if not text:
        return text
    out = _EMAIL.sub(lambda m: pseudonymise(m.group(0).lower(), key, EMAIL_PREFIX) or "", text)
    out = redact_text(out, kinds, key, phrases) or ""

    def token(m: re.Match[str]) -> str:
        t = m.group(0)
        if len(t) < 4 or _PSEUDONYM.fullmatch(t) or _DATEISH.fullmatch(t) or _NUMBER.fullmatch(t):
            return t
        if _ID_LIKE.fullmatch(t):
            return pseudonymise(t, key, TOKEN_PREFIX) or t
        return t

    return re.sub(r"[\w.-]+", token, out)
