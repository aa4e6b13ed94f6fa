"""The columns an engine's result has, and their types, known before any partition runs.

Spark asks for the schema of ``mapInPandas`` up front and Dask for the ``meta`` of
``map_partitions``: both are built here from the fitted model and the call, never guessed
from a partition's output. Each column gets one of these kinds, which the engine adapters
turn into their own types:

``"id"``
    the type of the input's id column;
``"time"``
    the type of the input's time column (a Spark ``timestamp``, ``timestamp_ntz`` or
    ``date``; a Dask ``datetime64``);
``"float"``
    64-bit floats (targets, forecasts, quantiles, actuals, metrics);
``"int"``
    64-bit integers (a backtest's ``window`` and ``step``, ``n_actual``);
``"str"``
    strings (a backtest's ``target``);
``"own"``
    the input's column of that name (``fold_history``'s rows, which are the input's own;
    Dask makes integers and booleans nullable, since message rows hold nulls).

With ``predict``'s ``future_covariates`` the result's columns are those of ``predict``
alone: the future frame's types shape nothing returned.

``predict``: ``id_col, time_col``, then each target followed by its quantile columns
``f"{target}_q{q:g}"`` (:func:`forecast.data.output.quantile_column`), and ``source``
(``"model"``, ``"naive"``, ``"seasonal_naive"``) with ``on_bad_series="fallback"``.
``backtest``: the columns of its two tables (:class:`forecast.backtest.BacktestResult`), in
one schema; ``metrics`` gets ``n_actual`` whenever the model has ``missing="mask"``. ``score``:
``score_sum`` and ``score_count``, a partition's MASE terms, summed on the driver.
"""

from __future__ import annotations

from typing import Any

from forecast.data.output import quantile_column
from forecast.evaluation.tables import interval_pairs
from forecast.protocol import Forecaster

__all__ = ["backtest_columns", "predict_columns", "score_columns"]

Columns = list[tuple[str, str]]


def predict_columns(model: Forecaster, fallback: bool = False) -> Columns:
    """``predict``'s columns: ids, future timestamps, targets and their quantiles, and with
    ``on_bad_series="fallback"`` (``fallback``) the ``source`` of each row."""
    layout = model.layout_
    out: Columns = [(str(layout.id_col), "id"), (str(layout.time_name), "time")]
    for target in model.target_names_:
        out.append((str(target), "float"))
        out += [(quantile_column(target, q), "float") for q in model.quantile_levels_]
    return [*out, ("source", "str")] if fallback else out


def backtest_columns(model: Forecaster, metrics: Any) -> tuple[Columns, Columns]:
    """The columns of a backtest's ``forecasts`` and ``metrics`` tables."""
    layout = model.layout_
    levels = list(model.quantile_levels_)
    ident = [(str(layout.id_col), "id"), ("window", "int"), ("cutoff", "time")]
    forecasts = [
        *ident,
        (str(layout.time_name or "timestamp"), "time"),
        ("step", "int"),
        ("target", "str"),
        ("actual", "float"),
        ("forecast", "float"),
        *[(quantile_column("forecast", q), "float") for q in levels],
    ]
    scores = list(ident)
    if getattr(model, "missing", "raise") == "mask":
        scores.append(("n_actual", "int"))
    scores += [("target", "str"), *[(str(m), "float") for m in metrics]]
    if levels:
        scores.append(("pinball", "float"))
        for _, _, c in interval_pairs(levels):
            percent = f"{100 * c:g}"
            scores += [(f"{name}_{percent}", "float") for name in ("coverage", "width", "winkler")]
    return forecasts, scores


def score_columns() -> Columns:
    """``score``'s per-partition columns: the sum and the count of its MASE terms."""
    return [("score_sum", "float"), ("score_count", "int")]
