"""The Python examples in durable-core's README run as written, each in a fresh process."""

from __future__ import annotations

from pathlib import Path

from durable_core.testing import ReadmeExamples


class TestReadme(ReadmeExamples):
    readme = Path(__file__).parents[1] / 'README.md'
    min_examples = 1
