"""The ``forecast`` command line: :func:`main` (see :mod:`forecast.cli.main`).

* :mod:`~forecast.cli.main`: the parser, logging and exit codes;
* :mod:`~forecast.cli.commands`: ``fit``, ``predict``, ``backtest``, ``info``, ``demo``;
* :mod:`~forecast.cli.params`: estimator flags from the signature, TOML job files;
* :mod:`~forecast.cli.tables`: reading and writing CSV and Parquet;
* :mod:`~forecast.cli.demo`: the main job on bundled data.

Importing this package imports neither pandas nor torch: ``forecast --help`` and
``forecast info`` start in a fraction of a second.
"""

from __future__ import annotations

from forecast.cli.main import main

__all__ = ["main"]
