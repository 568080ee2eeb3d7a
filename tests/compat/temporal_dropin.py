"""A drop-in program on Temporal, run with PydanticAI 2.68's `durable_exec` and its plugins, or with ours.

Usage: temporal_dropin.py IMPLEMENTATION PROGRAM TARGET DIR [FORM]. IMPLEMENTATION is `pai` or `ours`; PROGRAM names
the module `_temporal_dropin_<PROGRAM>.py` of this folder, written once against the public API that both share: its
`main(client, task_queue)` runs its workflows on a worker of this process and returns what it observed (JSON). FORM,
`wrapper` by default, is the form the program builds its agents in (`_temporal_dropin_api.FORMS`); a program that
built a durable agent in the other form, or none in the capability form, fails. The report goes to
DIR/<IMPLEMENTATION>.report.
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


async def main(implementation: str, program: str, target: str, directory: Path, form: str) -> None:
    _temporal_dropin_api.select(implementation, form)
    module = importlib.import_module(f'_temporal_dropin_{program}')
    built = _temporal_dropin_api.forms_built(vars(module))
    # The separate twin files used to guarantee the form; now the program must show it honoured the argument.
    if not built <= {form} or (form == 'capability' and not built):
        raise SystemExit(f'{program} was to build its agents in the {form} form; it built {sorted(built) or "none"}')
    client = await Client.connect(target, plugins=[_temporal_dropin_api.api.PydanticAIPlugin()])
    observed = await module.main(client, f'dropin-{program}-{form}-{implementation}-{uuid.uuid4().hex}')
    (directory / f'{implementation}.report').write_text(json.dumps(observed, sort_keys=True))


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), (sys.argv[5:] or ['wrapper'])[0]))
    exit_now()
