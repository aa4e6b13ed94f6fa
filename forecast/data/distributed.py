"""Which engine a frame lives on: Spark, Dask or none, told without importing either.

The public entry points (``predict``, ``score``, :func:`forecast.backtest.backtest`) ask
:func:`engine_of` before they convert a frame to pandas: a Spark or Dask frame is then run
per partition of whole series on its engine (:mod:`forecast.engines`) instead of being
collected into this process. The class is recognised by the module that defines it, so
that neither ``pyspark`` nor ``dask`` is imported here (importing ``forecast`` never
imports them; a user who holds such a frame has them already).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENGINES", "engine_of"]

#: The engines, and the modules whose ``DataFrame`` classes are theirs (any class in the
#: frame's MRO: Spark's classic and Connect frames, Dask's ``dask_expr`` and legacy ones).
ENGINES: dict[str, tuple[str, ...]] = {
    "spark": ("pyspark.sql",),
    "dask": ("dask.dataframe", "dask_expr"),
}


def engine_of(df: Any) -> str | None:
    """``"spark"`` or ``"dask"`` for a frame of that engine, else ``None``.

    Parameters
    ----------
    df : any

    Returns
    -------
    str or None

    Examples
    --------
    >>> import pandas as pd
    >>> engine_of(pd.DataFrame({"y": [1.0]})) is None
    True
    """
    for cls in type(df).__mro__:
        if cls.__name__ != "DataFrame":
            continue
        module = cls.__module__
        for engine, prefixes in ENGINES.items():
            if any(module == p or module.startswith(p + ".") for p in prefixes):
                return engine
    return None
