"""Every Python example in the package README runs as written, each in a fresh process.

`'openai:gpt-5'` in the examples talks to a local OpenAI-compatible server, which calls each offered
tool once with arguments made from its schema, then answers in text.
"""

from __future__ import annotations

from pathlib import Path

from durable_core.testing import ReadmeExamples


class TestReadme(ReadmeExamples):
    readme = Path(__file__).parents[1] / 'README.md'
    min_examples = 8
