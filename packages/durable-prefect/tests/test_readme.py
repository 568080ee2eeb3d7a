"""Every Python example in the package README runs as written, as `python example.py` in a fresh process.

Each runs without an API key, on PydanticAI's `TestModel`; an example that reads `OPENAI_API_KEY` runs again
with one, its `'openai:...'` models talking to a local OpenAI-compatible server, which calls each offered tool
once with arguments made from its schema, then answers in text.
"""

from __future__ import annotations

from pathlib import Path

from durable_core.testing import ReadmeExamples


class TestReadme(ReadmeExamples):
    readme = Path(__file__).parents[1] / 'README.md'
    min_examples = 8
