"""A drop-in program on Temporal, run with PydanticAI 2.68's `TemporalAgent` and its plugins, or with ours.

Usage: temporal_dropin.py IMPLEMENTATION PROGRAM TARGET DIR. IMPLEMENTATION is `pai` or `ours`; PROGRAM names the
module `_temporal_dropin_<PROGRAM>.py` of this folder, written once against the public API that both share: its
`main(client, task_queue)` runs its workflows on a worker of this process and returns what it observed (JSON). The
report goes to DIR/<IMPLEMENTATION>.report.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import uuid
from pathlib import Path

from _pai import quiet_deprecations

quiet_deprecations()

import _temporal_dropin_api  # noqa: E402
from _temporal import exit_now  # noqa: E402
from temporalio.client import Client  # noqa: E402


async def main(implementation: str, program: str, target: str, directory: Path) -> None:
    _temporal_dropin_api.select(implementation)
    module = importlib.import_module(f'_temporal_dropin_{program}')
    client = await Client.connect(target, plugins=[_temporal_dropin_api.api.PydanticAIPlugin()])
    observed = await module.main(client, f'dropin-{program}-{implementation}-{uuid.uuid4().hex}')
    (directory / f'{implementation}.report').write_text(json.dumps(observed, sort_keys=True))


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])))
    exit_now()
