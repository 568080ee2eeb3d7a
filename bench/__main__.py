"""`python -m bench`: what `bench/run` runs, once the venv is ready."""

from ._main import main

raise SystemExit(main())
