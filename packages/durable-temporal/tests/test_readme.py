"""Every ```python block of the README is a complete module: each runs against the dev server."""

from __future__ import annotations

import importlib
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_core.testing._servers import TemporalDevServer

README = Path(__file__).parent.parent / 'README.md'
BLOCKS = re.findall(r'```python\n(.*?)```', README.read_text(), re.DOTALL)
EXPECTED = {0: 'Mexico City', 1: '{"delete_file":"deleted a"}'}


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))


def test_readme_has_examples() -> None:
    assert len(BLOCKS) == len(EXPECTED)


@pytest.mark.parametrize('index', range(len(BLOCKS)))
async def test_readme_example_runs(index: int, module_dir: Path, temporal_dev_server: TemporalDevServer) -> None:
    name = f'readme_example_{index}_{uuid.uuid4().hex[:8]}'
    source = BLOCKS[index]
    # Unique workflow ids and task queues, so the examples can run more than once on one server.
    suffix = uuid.uuid4().hex[:8]
    source = re.sub(r"(id|task_queue)='([a-z0-9-]+)'", rf"\1='\2-{suffix}'", source)
    (module_dir / f'{name}.py').write_text(source)
    module = importlib.import_module(name)
    assert await module.main(temporal_dev_server.target) == EXPECTED[index]
