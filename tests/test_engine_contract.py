"""The engine contract holds: engine packages fill `durable_core.engine`'s hooks and nothing else.

Each engine's agent class overrides no public method of the base, and no engine package imports a private
`durable_core._*` module (the public `durable_core` and `durable_core.engine` are the whole contract).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from durable_core.engine import DurableAgent

ROOT = Path(__file__).parent.parent
ENGINE_SOURCES = {
    'durable_dbos': ROOT / 'packages' / 'durable-dbos' / 'src' / 'durable_dbos',
    'durable_prefect': ROOT / 'packages' / 'durable-prefect' / 'src' / 'durable_prefect',
    'durable_temporal': ROOT / 'packages' / 'durable-temporal' / 'src' / 'durable_temporal',
}


def _engine_agents() -> list[type[DurableAgent]]:
    from durable_dbos import DBOSAgent
    from durable_prefect import PrefectAgent
    from durable_temporal import TemporalAgent

    return [DBOSAgent, PrefectAgent, TemporalAgent]


def _public_methods_of_the_base() -> set[str]:
    names: set[str] = set()
    for cls in DurableAgent.__mro__:
        if cls is object:
            continue
        for name, value in vars(cls).items():
            if not name.startswith('_') and (callable(value) or isinstance(value, property | classmethod)):
                names.add(name)
    return names


@pytest.mark.parametrize('agent_class', _engine_agents(), ids=lambda cls: cls.__name__)
def test_an_engine_agent_overrides_no_public_method_of_the_base(agent_class: type[DurableAgent]) -> None:
    base_methods = _public_methods_of_the_base()
    overridden = sorted(name for name in vars(agent_class) if name in base_methods)
    assert overridden == [], f'{agent_class.__name__} overrides {overridden}: make it a hook of durable_core.engine'


@pytest.mark.parametrize('agent_class', _engine_agents(), ids=lambda cls: cls.__name__)
def test_an_engine_agent_implements_every_required_hook(agent_class: type[DurableAgent]) -> None:
    assert not inspect.isabstract(agent_class)


def test_the_public_methods_of_the_base_are_the_ones_checked() -> None:
    # A control: the check above would pass vacuously if it saw no public methods.
    assert {'run', 'run_sync', 'iter', 'run_stream', 'run_stream_events', 'override'} <= _public_methods_of_the_base()


@pytest.mark.parametrize('package', sorted(ENGINE_SOURCES))
def test_an_engine_package_imports_no_private_core_module(package: str) -> None:
    private: list[str] = []
    sources = sorted(ENGINE_SOURCES[package].rglob('*.py'))
    assert sources, f'no sources found for {package}'
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            modules: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            private += [
                f'{path.name}:{node.lineno} {module}' for module in modules if module.startswith('durable_core._')
            ]
    assert private == [], f'{package} imports private durable-core modules: {private}'
