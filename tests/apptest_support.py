"""AppTest helpers shared by the dashboard test modules (a helper module, so no test module imports another)."""

from __future__ import annotations

import re

import polars as pl
from streamlit.testing.v1 import AppTest


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return values[0]


def number(at: AppTest, label: str) -> int:
    return int(metric(at, label).replace(",", "").split()[0])


def url(at: AppTest, key: str) -> list[str]:
    """A URL parameter's values (AppTest gives one value as a string, several as a list)."""
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def table(at: AppTest, *columns: str) -> pl.DataFrame:
    """The first table on the page that has all these (readable) columns."""
    for df in [*at.dataframe, *at.table]:
        frame = pl.from_pandas(df.value)
        if set(columns) <= set(frame.columns):
            # st.table cells are Markdown-escaped text (dashboard.format.static_table): read them as shown.
            text = [c for c, d in frame.schema.items() if d == pl.String]
            return frame.with_columns(pl.col(text).str.replace_all(r"\\(.)", "$1"))
    raise AssertionError(f"no table with columns {columns}")


def plain(markdown: str) -> str:
    """Markdown as read: data in it is backslash-escaped (dashboard.format.md_escape)."""
    return re.sub(r"\\(.)", r"\1", markdown)
