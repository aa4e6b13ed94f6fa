"""The rows a backtest window trains on, cut on Spark or Dask: what a refit fits, per window.

A backtest that refits is refused on an engine (:func:`forecast.engines.refit_refusal`):
refitting on the workers would fit one model per partition, each on its own series, not the
one global model that :func:`forecast.backtest.backtest` fits on a pandas frame, and the
engines' global fit (``forecast.fit_spark``; Parquet parts and ``fit(forecast.parts(...))``)
needs choices a backtest cannot make for the user (processes, GPUs, a folder every process
reads). :func:`fold_history` gives the rows pandas' backtest fits window ``fold`` on, as a
frame of the same engine: each partition of whole series is cut by the pandas code itself
(:func:`forecast.evaluation.fitted.fold_rows`: cutoffs by position from each series' end,
sliding windows, ``on_bad_series``). Fit one global model on it, backtest it without refit
on the whole frame, and keep its windows (``docs/scaling.md``, "Backtests that refit"):

.. code-block:: python

    for w in range(0, n_windows, k):  # refit=k (refit=True: k = 1; refit=False: k = n_windows)
        train = fold_history(estimator, sdf, n_windows, step, fold=w)
        model = forecast.fit_spark(clone(estimator), train, f"parts/window-{w}")
        # its window 0 is window w: a backtest refuses a model fitted past its first cutoff
        result = backtest(model, sdf, n_windows - w, step, refit=False)
        served = result.forecasts.filter(f"window < {k}")  # windows w .. w + k - 1

Each partition's errors (a series too short for the windows, named) come back as ours, as
in :func:`forecast.engines.run`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import clone

from forecast._exceptions import DataError, DataTypeError, InvalidParameterError
from forecast.data.distributed import engine_of
from forecast.data.frames import to_native, to_pandas
from forecast.engines._partition import Job
from forecast.evaluation.backtest import _check_params
from forecast.evaluation.fitted import fold_rows
from forecast.protocol import Forecaster

__all__ = ["fold_history"]


def _columns(estimator: Forecaster, df: Any) -> tuple[str, str]:
    """The id and time columns of ``df`` as the estimator reads them (Nixtla's by default)."""
    id_col, time_col = getattr(estimator, "id_col", None), getattr(estimator, "time_col", None)
    if id_col is None and time_col is None:
        id_col, time_col = "unique_id", "ds"
    missing = [c for c in (id_col, time_col) if c is None or c not in df.columns]
    if missing or id_col is None or time_col is None:
        raise DataError(
            f"A {engine_of(df)} frame is cut per series, in the long layout: the "
            f"{type(estimator).__name__} needs id_col and time_col naming columns of it "
            f"(got id_col={id_col!r}, time_col={time_col!r}; columns {list(df.columns)})."
        )
    return str(id_col), str(time_col)


def fold_history(
    estimator: Forecaster,
    df: Any,
    n_windows: int = 1,
    step: int | None = None,
    *,
    fold: int = 0,
    window: str = "expanding",
    window_length: int | None = None,
    on_bad_series: str = "fail",
) -> Any:
    """The rows :func:`forecast.backtest.backtest` fits window ``fold`` on, cut on ``df``'s
    engine.

    Parameters
    ----------
    estimator : forecaster
        The estimator the backtest refits (fitted or not: only its parameters are read).
    df : pyspark.sql.DataFrame, dask.dataframe.DataFrame or pandas.DataFrame
        Long: id, time, targets and covariates, as the backtest takes it.
    n_windows, step, window, window_length, on_bad_series
        As :func:`forecast.backtest.backtest` (``"fallback"`` is refused there too).
    fold : int, default 0
        The window, ``0 <= fold < n_windows``: 0 is the oldest cutoff, where a backtest
        with ``refit=False`` fits its one model.

    Returns
    -------
    frame
        Of ``df``'s engine (or library), with its columns: each series' rows up to its
        cutoff of window ``fold`` (the last ``window_length`` of them with
        ``window="sliding"``). Spark keeps the column types; Dask makes integer and boolean
        columns nullable (``Int64``, ``boolean``), with the same values.

    Raises
    ------
    InvalidParameterError, DataError
        As the backtest: a parameter out of range; a series too short for the windows,
        named, raised here from the partition it is in.

    Examples
    --------
    >>> from forecast.baselines import NaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> air = load_air_passengers()
    >>> len(fold_history(NaiveForecaster(horizon=12), air, n_windows=3, fold=1))
    120
    """
    _check_params(estimator, n_windows, step, True, window, window_length, ("mae",), 1)
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < n_windows:
        raise InvalidParameterError(
            f"The 'fold' argument of fold_history must be an int in [0, n_windows={n_windows})"
            f". Got {fold!r} instead."
        )
    options: dict[str, Any] = {
        "n_windows": n_windows,
        "step": step,
        "fold": fold,
        "window": window,
        "window_length": window_length,
        "on_bad_series": on_bad_series,
    }
    engine = engine_of(df)
    if engine is None:
        frame, kind = to_pandas(df)
        if not isinstance(frame, pd.DataFrame):
            raise DataTypeError(f"Not a Spark, Dask or pandas frame: a {type(df).__name__}.")
        return to_native(fold_rows(estimator, frame, **options)[0], kind)
    from forecast.engines import _adapter  # the package's: it imports this module's layer

    id_col, time_col = _columns(estimator, df)
    columns = {str(name): "own" for name in df.columns}
    options["estimator"] = clone(estimator)  # unfitted: it reads the columns as at fit
    job = Job("history", type(estimator), options, list(columns))
    result = _adapter(engine).execute(df, job, b"", columns, id_col, time_col)
    result.messages(engine)  # raises a partition's error; the skipped series were warned
    return result.rows("rows", list(columns))
