"""The Python examples in durable-core's README run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BLOCKS = re.findall(r'```python\n(.*?)```', (Path(__file__).parents[1] / 'README.md').read_text(), flags=re.DOTALL)


@pytest.mark.parametrize('block', BLOCKS)
def test_readme_example_runs(block: str, tmp_path: Path) -> None:
    env = {**os.environ, 'OPENAI_API_KEY': 'test-key'}
    done = subprocess.run([sys.executable, '-c', block], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_readme_has_an_example() -> None:
    assert BLOCKS
