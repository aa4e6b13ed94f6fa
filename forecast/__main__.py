"""``python -m forecast``: the same as the ``forecast`` command."""

from __future__ import annotations

import sys

from forecast.cli.main import main

sys.exit(main())
