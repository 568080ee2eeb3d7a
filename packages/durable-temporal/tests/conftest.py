"""Real Temporal servers, each started once per test run.

The fixtures come from durable-core's pytest plugin (``durable_core.testing.pytest_plugin``, see its docstring):
``temporal_dev_server``, ``temporal_client``, ``temporal_env``, ``temporal_test_server_path``,
``time_skipping_env`` (all session scoped; async ones live on the session event loop) and ``task_queue`` (function
scoped). ``form`` (wrapper or capability) too.
"""

from __future__ import annotations

pytest_plugins = ['durable_core.testing.pytest_plugin']
