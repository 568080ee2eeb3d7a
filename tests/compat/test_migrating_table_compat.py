"""`docs/pages/migrating.md`, "Every name and argument": it lists all of 2.68's wrapper API, and ours exists.

The 2.68 side is read from the installed `pydantic_ai.durable_exec` with `inspect`: every public name, constructor
argument, config key, wrapper attribute and run or `override` argument must have exactly one row. Every name of ours
a row claims (`durable_x.Name`, `durable_x.Class(arg=)`, `durable_x.Config[key]`, `durable_x.Class.attr`) must exist,
and a row that says *same* must claim one.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations
from pydantic_ai.agent import AbstractAgent
from typing_extensions import is_typeddict

quiet_deprecations()

DOC = Path(__file__).parents[2] / 'docs' / 'pages' / 'migrating.md'
SECTION = '## Every name and argument'
ENGINES = ('dbos', 'temporal', 'prefect')
WRAPPERS = {'dbos': 'DBOSAgent', 'temporal': 'TemporalAgent', 'prefect': 'PrefectAgent'}
RUN_METHODS = ('run', 'run_sync', 'run_stream', 'run_stream_events', 'iter')
WHOLE_ONLY = {
    'DBOSOperationNamer',
    'TemporalOperationNamer',
    'PrefectOperationNamer',
    'AgentEventStream',
    'WorkflowStreamTopic',
    'DurableAgentRunEvents',
    'stream_agent_events',
    'workflow_stream_event_handler',
}
"""2.68's capability forms we lack and its workflow streams: listed by name only, as ours refuses them whole."""

CLAIM = re.compile(r'`((?:durable_\w+)(?:\.\w+)*)(?:\((\w+)=\)|\[(\w+)\])?`')


def _parameters(callable_: Any) -> list[str]:
    return [
        name
        for name, parameter in inspect.signature(callable_).parameters.items()
        if name != 'self'
        and not name.startswith('_')
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


def pai_keys() -> set[str]:
    """Every key of 2.68's wrapper API, as the table's first column spells it."""
    keys: set[str] = set()
    for engine in ENGINES:
        module = importlib.import_module(f'pydantic_ai.durable_exec.{engine}')
        for name in module.__all__:
            keys.add(f'{engine}.{name}')
            value = getattr(module, name)
            if name in WHOLE_ONLY or not inspect.isclass(value):
                continue
            if is_typeddict(value):
                keys.update(f'{engine}.{name}[{key}]' for key in value.__annotations__)
            else:
                keys.update(f'{engine}.{name}({argument}=)' for argument in _parameters(value.__init__))
        wrapper = getattr(module, WRAPPERS[engine])
        added = {name for name in dir(wrapper) if not name.startswith('_')} - set(dir(AbstractAgent))
        keys.update(f'{engine}.{WRAPPERS[engine]}.{name}' for name in added)
        for method in RUN_METHODS:
            keys.update(f'run({argument}=)' for argument in _parameters(getattr(wrapper, method)))
        keys.update(f'override({argument}=)' for argument in _parameters(wrapper.override))
    return keys


def table_rows() -> list[tuple[str, str, str]]:
    """The (2.68, ours, how) rows of the section."""
    text = DOC.read_text()
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split('\n## ', 1)[0]
    rows: list[tuple[str, str, str]] = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0].startswith('`'):
            rows.append((cells[0].strip('`'), cells[1], cells[2]))
    return rows


def claim_exists(path: str, argument: str | None, key: str | None) -> bool:
    """Whether ours has `path` (a module attribute path), its argument `argument`, or its config key `key`."""
    module_name, *attributes = path.split('.')
    target: Any = importlib.import_module(module_name)
    if attributes and attributes[0] == 'engine':  # durable_core.engine
        target = importlib.import_module(f'{module_name}.engine')
        attributes = attributes[1:]
    for attribute in attributes:
        if not hasattr(target, attribute):
            return False
        target = getattr(target, attribute)
    if key is not None:
        return key in target.__annotations__
    if argument is not None:
        function = target.__init__ if inspect.isclass(target) else target
        return argument in inspect.signature(function).parameters
    return True


def test_the_table_lists_every_name_and_argument_of_2_68_once() -> None:
    listed = [row[0] for row in table_rows()]
    assert len(listed) == len(set(listed)), 'a row is listed twice'
    assert sorted(pai_keys() - set(listed)) == [], 'not in the table'
    added_by_2_78 = {row[0] for row in table_rows() if '*2.78*' in row[2]}
    assert sorted(set(listed) - pai_keys() - added_by_2_78) == [], 'not in the installed PydanticAI'


def test_each_row_names_what_ours_has() -> None:
    problems: list[str] = []
    for theirs, ours, how in table_rows():
        kind = re.split(r'[ :;]', how, maxsplit=1)[0]
        if kind not in {'same', 'alias', 'different', 'none'}:
            problems.append(f'{theirs}: "how" starts with {kind!r}')
        claims = CLAIM.findall(ours)
        if kind in {'same', 'alias'} and not claims:
            problems.append(f'{theirs}: a {kind!r} row names nothing of ours')
        for path, argument, key in claims:
            if not claim_exists(path, argument or None, key or None):
                problems.append(f'{theirs}: ours has no {path} {argument or key or ""}'.rstrip())
    assert problems == []
