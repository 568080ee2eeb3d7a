"""Points a driver process at the test's Prefect server; call it before anything imports prefect."""

from __future__ import annotations

import os


def use_prefect_server(api_url: str, home: str, *, logging_level: str = 'ERROR', log_to_api: bool = False) -> None:
    """Use the Prefect server at `api_url` (never an ephemeral one), a private `PREFECT_HOME`, and no analytics."""
    os.environ.update(
        PREFECT_API_URL=api_url,
        PREFECT_HOME=home,
        PREFECT_SERVER_ANALYTICS_ENABLED='false',
        DO_NOT_TRACK='1',
        PREFECT_LOGGING_LEVEL=logging_level,
        PREFECT_LOGGING_TO_API_ENABLED=str(log_to_api).lower(),
    )
    os.environ.pop('PREFECT_PROFILES_PATH', None)
