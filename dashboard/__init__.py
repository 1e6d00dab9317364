"""The Streamlit dashboard (`compliance serve`): pages in `views/`, data access in `data.py`."""

import sys

# jsonschema (imported by Altair) loads rfc3987_syntax when it is installed (Jupyter pulls it in), which
# builds a Lark grammar at import: about 3 s of CPU, most of a cold first page. Altair never checks the
# "iri" format it serves, so the dashboard process does without it (jsonschema skips a missing checker).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
