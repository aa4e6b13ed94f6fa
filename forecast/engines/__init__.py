"""``predict``, ``backtest`` and ``score`` of a fitted model on a Spark or Dask frame.

A long frame (id, time, target, covariates) that lives in Spark (``pyspark.sql.DataFrame``)
or Dask (``dask.dataframe.DataFrame``) is never collected into this process: it is
partitioned by series on its own engine (Spark: ``repartition`` by the id column, rows
sorted by id and time within each partition, ``mapInPandas``; Dask: ``shuffle`` on the id
column, ``map_partitions``), so that every partition holds whole series, and the in-process
code runs on each partition's rows as pandas (:mod:`forecast.engines._partition`). The
model travels once per executor or worker as the bytes of its model file
(:func:`forecast.io.persistence.dumps`: a Spark broadcast variable, a Dask delayed object),
rebuilt there as ``forecast.load`` rebuilds a file, with its scalers, calendar features and
covariate names: a worker cannot forecast with a model that lacks them. Every forecast
reads only its own series, so the results equal those of the same call on the whole frame
in pandas (the tests check it to 1e-6 on both engines).

The result is a frame of the same engine, with the columns and types of
:mod:`forecast.engines._schema`, computed once and persisted (Spark ``MEMORY_AND_DISK``,
Dask ``persist``): the workers' errors and warnings come back with it
(:func:`~forecast.engines._partition.raise_messages`), so a bad series raises our error
naming it, here, and nothing is dropped without the warning that says so.

Known-future covariates: calendar features are computed on each worker from the model
file; others come as ``predict(df, future_covariates=future)``, exactly as in pandas, with
``future`` a frame of the same engine (or a pandas, polars or pyarrow frame, which is
handed to the engine). Both frames are partitioned by the same hash of the series id
(Spark: ``groupBy(bucket).cogroup(...).applyInPandas``; Dask: both shuffled on the id into
as many partitions, then ``map_partitions`` over the pairs), so that each call gets whole
series with their future rows. ``backtest`` and ``score`` read known-future values from
``df`` itself, as in pandas.

What differs from pandas: a backtest forecasts every window with the fitted model
(``refit=False``; see :mod:`forecast.evaluation.fitted`; a refit is refused with the code
to run instead, :func:`refit_refusal`), and its ``metrics`` has ``n_actual`` whenever the
model has ``missing="mask"``; ``expect_ids`` is not taken; warnings come once per
partition.

``pyspark`` and ``dask`` are optional (``pip install "forecast-rnn[spark]"``, ``[dask]``)
and imported only here, when a frame of theirs arrives or the command line asks for one.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.utils.validation import check_is_fitted

from forecast._exceptions import DataError, DataTypeError, InvalidParameterError
from forecast.data.distributed import engine_of
from forecast.data.frames import to_pandas
from forecast.engines._partition import Job
from forecast.engines._schema import backtest_columns, predict_columns, score_columns
from forecast.evaluation.backtest import BacktestResult
from forecast.io.persistence import dumps
from forecast.protocol import Forecaster

__all__ = ["EXTRAS", "refit_refusal", "require", "run"]

#: The module each engine needs, and the extra that installs it.
EXTRAS = {"spark": ("pyspark", "spark"), "dask": ("dask.dataframe", "dask")}


def require(engine: str, *, cluster: bool = False) -> None:
    """Import ``engine``'s package (Dask's ``distributed`` too with ``cluster``), or say
    which extra installs it.

    Raises
    ------
    DataTypeError
        The package is missing: the message gives the ``pip install`` command.
    """
    name, extra = EXTRAS[engine]
    try:
        if engine == "spark":
            import pyspark.sql  # noqa: F401
        else:
            import dask.dataframe  # noqa: F401

            if cluster:
                import distributed  # noqa: F401
    except ImportError as exc:
        raise DataTypeError(
            f"Running on {engine.capitalize()} needs {name.partition('.')[0]}, which cannot "
            f"be imported ({exc}): pip install 'forecast-rnn[{extra}]'."
        ) from None


def _adapter(engine: str) -> Any:
    """The module that runs jobs on ``engine``."""
    require(engine)
    if engine == "spark":
        from forecast.engines import spark

        return spark
    from forecast.engines import dask

    return dask


def _future(model: Forecaster, df: Any, future: Any) -> Any:
    """``predict``'s ``future_covariates`` as a frame of ``df``'s engine, checked as pandas
    checks it; ``None`` when the workers compute them (calendar features) or none is used.

    A pandas, polars or pyarrow frame is accepted and handed to the engine (Spark
    ``createDataFrame``, Dask ``from_pandas``): the driver holds it whole, so it suits
    futures smaller than the history; a large one should already live on the engine.
    """
    engine, layout = str(engine_of(df)), model.layout_
    names = list(model.future_names_)
    if future is None:
        calendar = model.__dict__.get("calendar_features_", [])
        others = [n for n in names if n not in calendar]
        if others:  # the message of pandas' predict (forecast.data.covariates.future_block)
            raise DataError(
                f"This model uses known-future covariates {names}: pass their values for "
                f"the next {model.horizon} step(s) of every series as predict(..., "
                f"future_covariates=frame), a {engine} frame (or a pandas one) in the long "
                f"layout: {layout.id_col!r}, {layout.time_col!r} and {others}."
            )
        return None  # calendar features, computed on each worker from the model file
    if not names:
        raise DataError(
            f"This {type(model).__name__} was fitted without known-future covariates, so "
            "it would ignore future_covariates: leave it out."
        )
    given = engine_of(future)
    if given is None:
        frame, _ = to_pandas(future, "future_covariates")
        if not isinstance(frame, pd.DataFrame):
            raise DataTypeError(
                f"future_covariates must be a {engine} frame or a DataFrame (pandas, polars "
                f"or pyarrow) in the long layout. Got a {type(future).__name__} instead."
            )
        if isinstance(frame.index, pd.MultiIndex):
            frame = frame.reset_index()
        future = _adapter(engine).from_pandas(df, frame)
    elif given != engine:
        raise DataTypeError(
            f"future_covariates is a {given} frame and the history a {engine} frame: give "
            "both on one engine (or future_covariates in pandas)."
        )
    columns = list(future.columns)
    absent = [c for c in (layout.id_col, layout.time_col, *names) if c not in columns]
    if absent:
        raise DataError(
            f"future_covariates lacks column(s) {absent}: the model reads each series' "
            f"future rows by {layout.id_col!r} and {layout.time_col!r}, and its known-future "
            f"covariates {names}. Columns: {columns}."
        )
    return future


def refit_refusal(engine: str | None) -> str:
    """Why ``backtest(refit=...)`` is refused on ``engine``, and the code to run instead.

    Refitting on the workers would fit one model per partition, each on its own series:
    not the global model of a pandas backtest. The alternatives named: collect the frame if
    it fits in memory, or fit one global model per window on the engine's rows of that
    window (:func:`forecast.engines.folds.fold_history`) and backtest it without refit.
    """
    fit = (
        'forecast.fit_spark(clone(estimator), train, f"parts/window-{w}")'
        if engine == "spark"
        else "clone(estimator).fit(forecast.parts(folder)) on train written as Parquet "
        "parts by series (train.shuffle(on=id_col).to_parquet(folder))"
    )
    return (
        f"The 'refit' parameter of backtest must be False with a {engine} frame: refitting "
        "on the workers would fit one model per partition, each on its own series, not the "
        "one global model a pandas backtest fits. Collect the frame if it fits in memory "
        f"(backtest(estimator, df.{'toPandas' if engine == 'spark' else 'compute'}(), ...)), "
        "or fit one global model "
        "per window on the engine: for w in range(n_windows): train = forecast.backtest."
        "fold_history(estimator, df, n_windows, step, fold=w); model = "
        f"{fit}; keep window 0 of backtest(model, df, n_windows - w, step, refit=False), "
        "which is window w (refit=k: every k-th w, keeping windows 0 to k - 1, which are w "
        "to w + k - 1; pandas' refit=False: w = 0, keeping all). See docs/scaling.md, "
        "'Backtests that refit'."
    )


def _check(model: Forecaster, method: str, df: Any, options: dict[str, Any]) -> None:
    if method == "backtest" and options["refit"] is not False:  # an estimator to refit
        raise InvalidParameterError(refit_refusal(engine_of(df)))
    check_is_fitted(model, "cutoffs_")
    layout = model.layout_
    if not layout.is_long:
        raise DataError(
            f"This {type(model).__name__} was fitted on a wide frame (one series); a "
            f"{engine_of(df)} frame is run per series, in the long layout: fit on a long "
            "frame with id_col and time_col (or collect the frame to pandas)."
        )
    missing = [c for c in (layout.id_col, layout.time_col) if c not in df.columns]
    if missing:
        raise DataError(
            f"The {engine_of(df)} frame has no column(s) {missing}, which the model reads "
            f"ids and timestamps from (id_col={layout.id_col!r}, time_col={layout.time_col!r})."
        )
    if method == "predict":
        options["future_covariates"] = _future(model, df, options["future_covariates"])
    if options.get("expect_ids") is not None:
        raise InvalidParameterError(
            f"expect_ids is not taken with a {engine_of(df)} frame: a partition cannot tell "
            "which series are absent from the others; compare the result's ids with yours."
        )
    if method == "backtest":
        options.pop("refit")
        if (options.pop("window"), options.pop("window_length")) != ("expanding", None):
            raise InvalidParameterError(
                "The 'window' and 'window_length' parameters of backtest shape the fits; "
                f"with a {engine_of(df)} frame nothing is fitted: leave them out."
            )


def run(model: Forecaster, method: str, df: Any, options: dict[str, Any]) -> Any:
    """``method`` of the fitted ``model`` on the Spark or Dask frame ``df``, per partition.

    Parameters
    ----------
    model : forecaster
        Fitted on a long frame.
    method : {"predict", "backtest", "score"}
    df : pyspark.sql.DataFrame or dask.dataframe.DataFrame
        Long: the model's id and time columns, targets and covariates.
    options : dict
        The call's other arguments (``predict``'s, ``backtest``'s).

    Returns
    -------
    frame, BacktestResult or float
        ``predict``: a frame of ``df``'s engine; ``backtest``: its tables as such frames;
        ``score``: a float, as in pandas.

    Raises
    ------
    ForecastError
        What the call raises in pandas, raised here from the partition it arose in.
    """
    engine = engine_of(df)
    if engine is None:
        raise DataTypeError(f"Not a Spark or Dask frame: a {type(df).__name__}.")
    options = dict(options)
    _check(model, method, df, options)
    layout = model.layout_
    future = options.pop("future_covariates", None)
    if method == "predict":
        options.pop("expect_ids")
        tables = {"rows": predict_columns(model, options["on_bad_series"] == "fallback")}
    elif method == "score":
        tables = {"score": score_columns()}
    else:
        forecasts, scores = backtest_columns(model, options["metrics"])
        tables = {"forecasts": forecasts, "metrics": scores}
    columns: list[tuple[str, str]] = []
    for table in tables.values():
        columns += [c for c in table if c not in columns]
    if len({name for name, _ in columns}) != len(columns):
        raise DataError(f"Columns of the {method} result clash: {columns}.")
    job = Job(
        method,
        type(model),
        options,
        [name for name, _ in columns],
        ints=tuple(name for name, kind in columns if kind == "int"),
        future=() if future is None else tuple(str(c) for c in future.columns),
        zone=getattr(model.__dict__.get("cutoffs_"), "tz", None),
    )
    adapter = _adapter(engine)
    id_col, time_col = str(layout.id_col), str(layout.time_col)
    result = adapter.execute(df, job, dumps(model), dict(columns), id_col, time_col, future)
    found = result.messages(engine)
    frames = {
        kind: result.rows(kind, [name for name, _ in table]) for kind, table in tables.items()
    }
    if method == "predict":
        return frames["rows"]
    if method == "score":
        sums = result.collect(frames["score"])
        count = int(sums["score_count"].sum())
        if not count:
            raise DataError(f"Nothing to score: the {engine} frame holds no series.")
        return -float(sums["score_sum"].sum()) / count
    return BacktestResult(
        forecasts=frames["forecasts"],
        metrics=frames["metrics"],
        models=[model] * options["n_windows"],
        bad_series=found["bad_series"],
        missing_actuals=found["missing_actuals"],
    )
