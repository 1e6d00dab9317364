"""Capantra privacy-compliance core: policy as code, ingestion, controls, deadlines, demo data.

This package never imports Streamlit, so notebooks and CI can use it without a server.
"""

__version__ = "0.1.0"
