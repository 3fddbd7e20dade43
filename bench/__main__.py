"""`python -m bench`: run the benchmarks, print the table, write bench/results.json."""

from __future__ import annotations

import sys

from bench.runner import main

sys.exit(main())
