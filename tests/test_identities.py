"""compliance.identities: the one way every surface (dashboard, notebooks, reports, summary) names people."""

from __future__ import annotations

import polars as pl
import pytest

from compliance.identities import Identities
from compliance.pseudonyms import KEY_ENV, pseudonymise

KEY = "identities-test-key-0123456789abcdef012345"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


IDS = Identities({"emp_7": "A-", "sub_9": "S-", "both_1": "A-"})


def a(value: str) -> str:
    return pseudonymise(value, KEY, "A-") or ""


def s(value: str) -> str:
    return pseudonymise(value, KEY, "S-") or ""


def test_text_names_resource_keys_by_their_kind_and_keeps_punctuation() -> None:
    # both_1 is an actor and a subject: as a subject resource it gets the subject pseudonym, as on the
    # dashboard's findings tables; a full stop after an id stays a full stop.
    out = IDS.text("subject:both_1 [high]: actor:emp_7@2025-01-02 by emp_7. from 10.0.0.1, subject:sub_9.")
    assert out == (
        f"subject:{s('both_1')} [high]: actor:{a('emp_7')}@2025-01-02 by {a('emp_7')}. from "
        f"{pseudonymise('10.0.0.1', KEY, 'IP-')}, subject:{s('sub_9')}."
    )
    assert Identities(IDS.kinds, reveal=True).text("by emp_7.") == "by emp_7."


def test_frame_pseudonymises_every_text_cell_and_list() -> None:
    frame = pl.DataFrame(
        {"who": ["emp_7", None], "note": ["sub_9 asked", "nobody"], "ids": [["emp_7", "x"], []], "n": [1, 2]}
    )
    out = IDS.frame(frame)
    assert out.rows() == [(a("emp_7"), f"{s('sub_9')} asked", [a("emp_7"), "x"], 1), (None, "nobody", [], 2)]
    assert Identities(IDS.kinds, reveal=True).frame(frame).equals(frame)


def test_lookup_takes_an_id_or_the_pseudonym_the_dashboard_shows() -> None:
    assert IDS.lookup("emp_7") == "emp_7"
    assert IDS.lookup(a("emp_7")) == "emp_7"
    with pytest.raises(ValueError, match="neither a known id nor the pseudonym"):
        IDS.lookup("A-0000000000000000")


def test_say_prints_pseudonyms(capsys: pytest.CaptureFixture[str]) -> None:
    IDS.say("Investigating emp_7:", "sub_9")
    assert capsys.readouterr().out == f"Investigating {a('emp_7')}: {s('sub_9')}\n"


# Ids as real exports hold them: several words, quotes, SQL or HTML, e-mail addresses (vendor logs),
# trailing punctuation, and one id inside another. Each must vanish from the text, whatever surrounds it.
SQL_ID = "cust'; drop table audit_events;--"
HOSTILE_IDS = {
    SQL_ID: "A-",
    "cust'; drop table audit_events;-- 2": "A-",  # contains the one above: replaced whole, longest first
    "Jane Doe": "S-",
    "<b>boss</b>": "A-",
    "jane.doe@example.com": "A-",
    "emp-": "A-",
    "o'brien": "A-",
    'say "hi"': "S-",
    "Zoë Ågren": "S-",
}
HOSTILE = Identities(HOSTILE_IDS)


@pytest.mark.parametrize("ident", sorted(HOSTILE_IDS))
@pytest.mark.parametrize(
    "template",
    [
        "Exported 3 records by {id} on 2025-01-02.",
        "{id}",
        "actor:{id}@2025-01-02 read 9",
        "subject:{id} waited 40 days; {id}.",
        "({id}), [{id}]: '{id}'",
    ],
)
def test_an_id_that_is_not_one_word_is_pseudonymised_whole(ident: str, template: str) -> None:
    out = HOSTILE.text(template.format(id=ident)) or ""
    assert ident not in out
    pseudonym = pseudonymise(ident, KEY, HOSTILE_IDS[ident])
    assert pseudonym in out
    # Never a pseudonym of a pseudonym: the same person reads the same everywhere.
    assert HOSTILE.text(out) == out


@pytest.mark.parametrize(
    ("resource", "shown"),
    [
        ("actor:jane.doe@example.com@2025-01-02", f"actor:{a('jane.doe@example.com')}@2025-01-02"),
        ("actor:jane.doe@example.com", f"actor:{a('jane.doe@example.com')}"),
        (f"actor:{SQL_ID}@2025-01-02", f"actor:{a(SQL_ID)}@2025-01-02"),
        ("subject:Jane Doe", f"subject:{s('Jane Doe')}"),
        ("ip:2001:db8::1@2025-01-02", f"ip:{pseudonymise('2001:db8::1', KEY, 'IP-')}@2025-01-02"),
        ("recipient:partner.example", "recipient:partner.example"),
    ],
)
def test_resource_keys_split_the_day_after_the_last_at_sign(resource: str, shown: str) -> None:
    assert HOSTILE.resource(resource) == shown
    assert HOSTILE.resource(shown) == shown  # already pseudonymised: left alone
    assert HOSTILE.text(resource) == shown
