"""Every Python example in the package README runs as written, as `python example.py` in a fresh process.

The examples connect to the dev server through `TEMPORAL_ADDRESS`, as a user would point them at one. Each runs
without an API key, on PydanticAI's `TestModel`; an example that reads `OPENAI_API_KEY` runs again with one, its
`'openai:...'` models talking to a local OpenAI-compatible server, which calls each offered tool once with
arguments made from its schema, then answers in text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from durable_core.testing import ReadmeExamples, TemporalDevServer


class TestReadme(ReadmeExamples):
    readme = Path(__file__).parents[1] / 'README.md'
    min_examples = 2
    temporal_address: str

    @pytest.fixture(autouse=True)
    def _dev_server(self, temporal_dev_server: TemporalDevServer) -> None:
        self.temporal_address = temporal_dev_server.target

    def example_env(self) -> dict[str, str]:
        return {'TEMPORAL_ADDRESS': self.temporal_address}
