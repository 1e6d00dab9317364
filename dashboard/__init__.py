"""The Streamlit dashboard (`compliance serve`): pages in `views/`, data access in `data.py`."""
