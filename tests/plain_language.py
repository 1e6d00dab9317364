"""Issue 18's plain-language rule for any rendered page (AppTest): what a person reads names controls by their
titles (ids only in the "Control id" column), shows no query parameter syntax and no literal `None`."""

from __future__ import annotations

import re

from pandas.api.types import is_object_dtype, is_string_dtype
from streamlit.testing.v1 import AppTest

from compliance.catalog import load_catalog

PARAMETER, NONE = re.compile(r"\$[a-z_]+"), re.compile(r"\bNone\b")
CONTROL_ID = re.compile(r"(?<![\w.])(" + "|".join(re.escape(c) for c in load_catalog()) + r")(?![\w])")


def shown_text(at: AppTest) -> str:
    """What a person reads on the page: text elements, metrics, tab and expander labels and every table
    cell as shown, without the "Control id" columns that hold ids on purpose, beside the titles."""
    parts = [e.value for kind in ("markdown", "caption", "text", "success", "info", "warning") for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [t.label for t in at.tabs] + [e.label for e in at.expander]
    for df in [*at.dataframe, *at.table]:
        value = df.value
        frame = value.data if hasattr(value, "data") else value
        parts.append(frame.drop(columns=["Control id"], errors="ignore").to_csv(index=False))
    return re.sub(r"\\(.)", r"\1", "\n".join(str(p) for p in parts))


def assert_plain_language(at: AppTest) -> None:
    """Issue 18: controls by title (ids only in the Control id column), no query parameter syntax, and no
    empty cell or sentence printed as `None`."""
    text = shown_text(at)
    for name, pattern in (("bare control id", CONTROL_ID), ("query parameter", PARAMETER), ("literal None", NONE)):
        found = pattern.search(text)
        assert not found, f"{name} on the page: ...{text[max(found.start() - 60, 0) : found.end() + 20]}..."
    for df in at.dataframe:  # the grid draws a missing text value as "None"
        value = df.value
        frame = value.data if hasattr(value, "data") else value
        text_columns = [c for c in frame.columns if is_string_dtype(frame[c]) or is_object_dtype(frame[c])]
        assert not frame[text_columns].isna().any().any(), f"empty text cells in {list(frame.columns)}"
