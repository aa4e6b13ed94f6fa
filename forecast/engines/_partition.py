"""What a worker does with one partition of whole series, and what the driver reads back.

The driver builds a :class:`Job` (the method, its options, the model as the bytes of its
model file, the output columns); each partition of whole series goes through
:func:`run_partition` on a worker, which rebuilds the model once per worker process
(:func:`forecast.io.persistence.loads`: weights, scalers, calendar and covariate names,
all from the file, as ``forecast.load`` would), calls the in-process code on the pandas
rows and returns a frame of the job's columns plus two of its own:

``__forecast_row__``
    what the row is: ``"forecasts"`` / ``"metrics"`` (a backtest's tables), ``"rows"``
    (``predict``), ``"score"`` (``score``'s sum and count), or a message to the driver:
    ``"error"`` (a :class:`~forecast.ForecastError`, caught here, so that the driver
    raises it again, naming the series, instead of a worker's traceback), ``"warning"``,
    ``"bad_series"`` (``on_bad_series="skip"``), ``"missing_actuals"``.
``__forecast_message__``
    the message as JSON, on the message rows; null on the others.

Messages travel as rows because it is the one channel both engines give back in order
with the data, without a side service: :func:`raise_messages` reads them on the driver.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import warnings
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import numpy as np
import pandas as pd

from forecast import _exceptions, _warnings
from forecast._exceptions import DataError, ForecastError
from forecast.evaluation.fitted import fitted_backtest, fold_rows
from forecast.io.persistence import loads
from forecast.protocol import Forecaster

__all__ = ["KIND", "MESSAGE", "Job", "raise_messages", "run_partition"]

KIND = "__forecast_row__"
MESSAGE = "__forecast_message__"

# Rebuilt models, per worker process, by the sha256 of their bytes: a worker that runs many
# partitions (Spark reuses its Python workers, Dask's live as long as the cluster) loads the
# model once.
_MODELS: dict[str, Forecaster] = {}


@dataclass(frozen=True)
class Job:
    """One call of a fitted model over the partitions of an engine's frame.

    Attributes
    ----------
    method : {"predict", "backtest", "score", "history"}
    estimator : type
        The model's class: unpickling it on a worker imports its module, which registers
        the class, so that the bytes can be loaded there (a class of the user's too).
    options : dict
        The keyword arguments of the call on each partition.
    columns : list of str
        The data columns of each returned frame, in order (:mod:`forecast.engines._schema`).
    ints : tuple of str
        Columns that are integers (``window``, ``step``, ``n_actual``), the rest as given.
    dates : tuple of str
        Time columns the engine holds as dates, not timestamps.
    future : tuple of str
        The columns of ``predict``'s ``future_covariates`` frame, which each partition gets
        beside its history (empty: none is given).
    zone : tzinfo, optional
        The zone of the data the model was fitted on (its cutoffs'): tz-aware timestamps
        are converted to it before the model reads them, as the command line's readers do
        on one machine, so that a daily series on Europe/Berlin midnights handed over in
        UTC is forecast on Berlin midnights, not on 23:00 UTC across a daylight-saving
        change. ``None``: a naive model (or ``fold_history``'s estimator), nothing converted.
    naive_zone : str, optional
        The zone that naive timestamps of the input are instants in: Spark's session zone
        for a ``timestamp`` column (``mapInPandas`` hands its instants over as naive wall
        times there). ``None``: naive timestamps are wall times, left as they are (a Dask
        frame's, a Spark ``timestamp_ntz``), as the command line leaves them.
    """

    method: str
    estimator: type
    options: dict[str, Any]
    columns: list[str]
    ints: tuple[str, ...] = ()
    dates: tuple[str, ...] = field(default=())
    future: tuple[str, ...] = ()
    zone: tzinfo | None = None
    naive_zone: str | None = None

    @property
    def out_columns(self) -> list[str]:
        return [*self.columns, KIND, MESSAGE]


def _model(raw: bytes) -> Forecaster:
    key = hashlib.sha256(raw).hexdigest()
    if key not in _MODELS:
        _MODELS.clear()  # one model at a time per worker: a new job's replaces the last
        _MODELS[key] = loads(raw, "the model shipped to this worker")
    return _MODELS[key]


def _message_rows(job: Job, kind: str, messages: list[Any]) -> pd.DataFrame:
    rows = pd.DataFrame({c: [None] * len(messages) for c in job.columns})
    rows[KIND] = kind
    rows[MESSAGE] = [json.dumps(m, default=str) for m in messages]
    return rows


def _typed(job: Job, frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """``frame`` with the job's columns, in order (absent ones null), and its row kind."""
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        frame = frame.reset_index()
    unknown = [c for c in frame.columns if c not in job.columns]
    if unknown:  # a column the schema lacks would be lost: our bug, never silent
        raise RuntimeError(f"The {job.method} result has columns {unknown} not in its schema.")
    out = pd.DataFrame(
        {
            c: frame[c] if c in frame.columns else pd.Series(None, index=frame.index)
            for c in job.columns
        }
    )
    for name in job.dates:
        if name in out.columns and len(out):
            out[name] = pd.to_datetime(out[name]).dt.date
    out[KIND] = kind
    out[MESSAGE] = None
    return out


def _calendar(model: Forecaster, frame: pd.DataFrame) -> pd.DataFrame:
    """The known-future calendar features over each series' horizon (``make_future_frame``).

    Only the ids and timestamps of ``frame`` matter here: its values are filled with 0 for
    this call alone, so that a series with a NaN is isolated by ``predict``'s own
    ``on_bad_series`` (or named by its error), not refused while building this frame.
    """
    values = [c for c in frame.columns if c not in (model.layout_.id_col, model.layout_.time_col)]
    future = model.make_future_frame(frame.fillna(dict.fromkeys(values, 0.0)))
    unknown = [c for c in model.future_names_ if future[c].isna().any()]
    if unknown:
        raise DataError(
            f"This model's known-future covariates {unknown} are not calendar features, "
            "which a worker computes itself: pass their values as predict(df, "
            "future_covariates=frame)."
        )
    return future


def _in_zone(job: Job, frame: pd.DataFrame | None, time_col: Any) -> pd.DataFrame | None:
    """``frame`` with its timestamps in the model's zone (see :class:`Job`'s ``zone``)."""
    if job.zone is None or frame is None or time_col not in frame.columns:
        return frame
    times = frame[time_col]
    if not pd.api.types.is_datetime64_any_dtype(times):
        return frame
    if times.dt.tz is None:
        if job.naive_zone is None:
            return frame  # wall times: the model reads them as they are
        # Spark's instants, as the session zone's wall times; at a fall-back hour, which
        # such wall times cannot tell apart, standard time (as pyspark itself localizes)
        times = times.dt.tz_localize(job.naive_zone, ambiguous=False, nonexistent="shift_forward")
    return frame.assign(**{time_col: times.dt.tz_convert(job.zone)})


def _call(
    job: Job, model: Forecaster, frame: pd.DataFrame, future: pd.DataFrame | None
) -> list[pd.DataFrame]:
    if job.zone is not None:
        time_col = model.layout_.time_col
        frame = _in_zone(job, frame, time_col)  # type: ignore[assignment]
        future = _in_zone(job, future, time_col)
    if job.method == "predict":
        options = dict(job.options)
        if future is not None:  # the user's: the rows of this partition's hash of the ids
            options["future_covariates"] = future[list(job.future)]
        elif model.future_names_:  # calendar features: computed here, from the model file
            options["future_covariates"] = _calendar(model, frame)
        return [_typed(job, model.predict(frame, **options), "rows")]
    if job.method == "history":  # fold_history: a backtest window's training rows
        options = {k: v for k, v in job.options.items() if k != "estimator"}
        rows, bad = fold_rows(model, frame, **options)
        out = [_typed(job, rows.reset_index(drop=True), "rows")]
        return [*out, _message_rows(job, "bad_series", bad)] if bad else out
    if job.method == "score":
        terms = model._score_terms(frame)  # (S, T)
        finite = terms[~np.isnan(terms)]
        row = pd.DataFrame({"score_sum": [float(finite.sum())], "score_count": [finite.size]})
        return [_typed(job, row, "score")]
    tidy, scores, bad, missing = fitted_backtest(model, frame, **job.options)
    out = [_typed(job, tidy, "forecasts"), _typed(job, scores, "metrics")]
    if bad:
        out.append(_message_rows(job, "bad_series", bad))
    if missing:
        out.append(_message_rows(job, "missing_actuals", [missing]))
    return out


def run_partition(
    job: Job, raw: bytes, frame: pd.DataFrame, future: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The job's result on one partition of whole series (pandas in, pandas out).

    Parameters
    ----------
    job : Job
    raw : bytes
        The model file's bytes.
    frame : pandas.DataFrame
        Every row of each of its series (a partition may hold none).
    future : pandas.DataFrame, optional
        With ``job.future``: the rows of ``predict``'s ``future_covariates`` whose ids hash
        as this partition's (so every row of its series; others' are ignored, as in pandas).

    Returns
    -------
    pandas.DataFrame
        ``job.out_columns``; an error becomes one ``"error"`` row, warnings ``"warning"``
        rows.
    """
    if not len(frame):
        return _typed(job, pd.DataFrame(columns=job.columns), "rows")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if job.future and (future is None or not len(future.columns)):
                future = pd.DataFrame(columns=list(job.future))  # none for these series
            # fold_history's estimator is unfitted: it travels in the job, not as a file
            model = job.options["estimator"] if job.method == "history" else _model(raw)
            parts = _call(job, model, frame, future if job.future else None)
        except ForecastError as exc:
            error = {"type": type(exc).__name__, "message": str(exc)}
            parts = [_message_rows(job, "error", [error])]
    said = [{"category": w.category.__name__, "message": str(w.message)} for w in caught]
    if said:
        parts.append(_message_rows(job, "warning", said))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    for name in out.columns:
        if name in job.ints:
            out[name] = out[name].astype("Int64")
        elif isinstance(out[name].dtype, pd.StringDtype):  # pandas 3's Arrow-backed strings:
            out[name] = out[name].astype(object)  # Spark's Arrow conversion takes objects
    return out


def raise_messages(messages: pd.DataFrame, engine: str) -> dict[str, Any]:
    """Raise the first partition's error again, here; warn what the workers warned.

    Parameters
    ----------
    messages : pandas.DataFrame
        The message rows of a job's result (``KIND``, ``MESSAGE``), collected.
    engine : str
        Named in the messages.

    Returns
    -------
    dict
        ``bad_series`` (list) and ``missing_actuals`` (int), a backtest's.

    Raises
    ------
    ForecastError
        Of the class raised on the worker (a :class:`~forecast.DataError` if this version
        has no such class), with its message, which names the series.
    """
    found: dict[str, Any] = {"bad_series": [], "missing_actuals": 0}
    errors = []
    for kind, text in zip(messages[KIND], messages[MESSAGE], strict=True):
        value = json.loads(text)
        if kind == "error":
            errors.append(value)
        elif kind == "warning":
            found_category = getattr(builtins, value["category"], None)
            category: type[Warning] = UserWarning
            if isinstance(found_category, type) and issubclass(found_category, Warning):
                category = found_category
            _warnings.warn(f"On a {engine} worker: {value['message']}", category)
        elif kind == "bad_series":
            found["bad_series"].append(value)
        elif kind == "missing_actuals":
            found["missing_actuals"] += int(value)
    if errors:
        first = errors[0]
        cls = getattr(_exceptions, first["type"], None)
        if not (isinstance(cls, type) and issubclass(cls, ForecastError)):
            cls = DataError
        more = f" ({len(errors) - 1} more partition(s) failed too)" if len(errors) > 1 else ""
        raise cls(first["message"] + more)
    return found
