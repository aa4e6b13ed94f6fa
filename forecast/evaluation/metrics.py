"""Forecast accuracy: MAE, RMSE, MAPE, sMAPE, MASE; pinball loss, coverage, width, Winkler.

Every metric takes ``y_true`` and ``y_pred`` as arrays, pandas Series or DataFrames of the
same shape. Rows are time steps; columns are series (or targets), each scored on its own:
``multioutput="raw_values"`` returns one value per column (a Series named by the columns for
pandas input), ``"uniform_average"`` (the default) their mean, as in scikit-learn.

=========  =======================================================  ======================
metric     definition (mean over the rows of a column)              unit, range
=========  =======================================================  ======================
``mae``    ``|y - ŷ|``                                              units of y, [0, ∞)
``rmse``   ``sqrt(mean((y - ŷ)²))``                                 units of y, [0, ∞)
``mape``   ``100 · |y - ŷ| / |y|``; refuses ``y = 0``               percent, [0, ∞)
``smape``  ``200 · |y - ŷ| / (|y| + |ŷ|)``; ``0/0`` counts as 0     percent, [0, 200]
``mase``   ``|y - ŷ| / mean(|y_train[t] - y_train[t - m]|)``        unitless, [0, ∞)
=========  =======================================================  ======================

Quantiles and intervals (``ŷ_q`` a forecast of the ``q``-quantile; ``[l, u]`` an interval
of nominal coverage ``c``, ``α = 1 - c``):

==================  ==============================================  ======================
``pinball_loss``    ``max(q · (y - ŷ_q), (q - 1) · (y - ŷ_q))``     units of y, [0, ∞)
``coverage``        ``1 if l <= y <= u else 0``                     fraction, [0, 1]
``interval_width``  ``u - l``                                       units of y, [0, ∞)
``winkler_score``   ``(u - l) + (2/α)(l - y)·[y < l]``              units of y, [0, ∞)
                    ``+ (2/α)(y - u)·[y > u]``
==================  ==============================================  ======================

The pinball loss is minimised by the true ``q``-quantile (scikit-learn's
``mean_pinball_loss`` with ``alpha=q``); the Winkler (interval) score of Gneiting & Raftery
(2007, eq. 43) rewards narrow intervals and penalises each miss by its distance, so it is
minimised by the true ``α/2`` and ``1 - α/2`` quantiles. Coverage alone is not a score: an
infinitely wide interval always covers.

sMAPE is the M3/M4 competitions' definition. MASE (Hyndman & Koehler, 2006) divides the MAE
by the in-sample MAE of the seasonal-naive forecast with period ``m`` on the training
history: below 1 beats that naive forecast as it did in-sample.

Frame-level evaluation (per cutoff and per series of a backtest) lives in
:mod:`forecast.evaluation.tables`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, DataTypeError
from forecast._validation import check_float, check_int, check_option

__all__ = [
    "coverage",
    "interval_width",
    "mae",
    "mape",
    "mase",
    "pinball_loss",
    "rmse",
    "smape",
    "winkler_score",
]

_MULTIOUTPUT = ("uniform_average", "raw_values")


class _Data:
    """One argument as a float64 ``(n, k)`` array, with its labels for messages and output."""

    def __init__(self, y: Any, name: str) -> None:
        self.name = name
        self.index: pd.Index | None = None
        self.columns: list | None = None
        if isinstance(y, pd.Series):
            self.index, self.columns = y.index, [y.name if y.name is not None else 0]
            y = y.to_frame()
        elif isinstance(y, pd.DataFrame):
            self.index, self.columns = y.index, list(y.columns)
            # Columns are matched by name (align), and y[c] of a repeated name is a frame,
            # which the numeric check below would call "not numeric": said as what it is.
            repeated = y.columns[y.columns.duplicated()].unique().tolist()
            if repeated:
                raise DataError(
                    f"{name} has repeated column names {repeated}; columns are matched by "
                    "name between y_true and y_pred, so each must be unique. Rename them."
                )
            bad = [c for c in y.columns if not pd.api.types.is_numeric_dtype(y[c])]
            if bad:
                raise DataError(f"{name} column(s) {bad} are not numeric.")
        try:
            array = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name} must hold numbers ({exc}).") from exc
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.size == 0:
            raise DataError(
                f"{name} must be a non-empty 1-D or 2-D array (time steps × series); "
                f"got shape {np.shape(y)}."
            )
        self.values = array
        bad_rows, bad_cols = np.nonzero(~np.isfinite(array))
        if bad_rows.size:
            raise DataError(
                f"{name} has {bad_rows.size} NaN or infinite value(s), the first at "
                f"{self.where(bad_rows[0], bad_cols[0])}. Drop or fill them before scoring."
            )

    def where(self, row: int, col: int) -> str:
        """``"row 2020-01-04 of column 'y'"``-style location of an entry, for messages."""
        label = self.index[row] if self.index is not None else int(row)
        if self.values.shape[1] == 1 and self.columns is None:
            return f"position {label}"
        column = self.columns[col] if self.columns is not None else int(col)
        return f"row {label} of column {column!r}"

    def align(self, other: _Data) -> None:
        """Reorder ``other``'s columns like ours; check both describe the same rows."""
        if self.columns is not None and other.columns is not None and self.values.shape[1] > 1:
            missing = [c for c in self.columns if c not in other.columns]
            extra = [c for c in other.columns if c not in self.columns]
            if missing or extra:
                raise DataError(
                    f"{self.name} and {other.name} have different columns: {other.name} lacks "
                    f"{missing} and has {extra} in addition."
                )
            other.values = other.values[:, [other.columns.index(c) for c in self.columns]]
            other.columns = list(self.columns)
        if self.values.shape[1] != other.values.shape[1] or (
            other.name != "y_train" and self.values.shape[0] != other.values.shape[0]
        ):
            raise DataError(
                f"{self.name} has shape {self.values.shape} and {other.name} has shape "
                f"{other.values.shape} (time steps × series); they must match"
                + (" in columns." if other.name == "y_train" else ".")
            )
        if (
            other.name != "y_train"
            and self.index is not None
            and other.index is not None
            and not self.index.equals(other.index)
        ):
            first = int(np.flatnonzero(self.index != other.index)[0])
            raise DataError(
                f"{self.name} and {other.name} have different indexes (first difference at "
                f"position {first}: {self.index[first]} vs {other.index[first]}). Align "
                f"them, e.g. {other.name}.reindex({self.name}.index)."
            )


def _prepare(func: str, y_true: Any, y_pred: Any, multioutput: str) -> tuple[_Data, _Data]:
    check_option(func, "multioutput", multioutput, _MULTIOUTPUT)
    true, pred = _Data(y_true, "y_true"), _Data(y_pred, "y_pred")
    true.align(pred)
    return true, pred


def _reduce(per_column: np.ndarray, true: _Data, multioutput: str) -> Any:
    if multioutput == "uniform_average":
        return float(np.mean(per_column))
    if true.columns is not None:
        return pd.Series(per_column, index=true.columns, name=None)
    return per_column


def mae(y_true: Any, y_pred: Any, *, multioutput: str = "uniform_average") -> Any:
    """Mean absolute error, in the units of ``y``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, k), pandas.Series or pandas.DataFrame
        Actual and forecast values; rows are time steps, columns series (or targets). Two
        pandas objects must share their index; DataFrame columns are matched by name.
    multioutput : {"uniform_average", "raw_values"}, default "uniform_average"
        The mean over columns, or one value per column.

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series
        ``"raw_values"`` gives a Series indexed by the columns for pandas input.

    Raises
    ------
    DataError
        Shapes, indexes or columns that differ; NaN or infinite values (located).

    Examples
    --------
    >>> mae([1.0, 2.0, 4.0], [2.0, 2.0, 2.0])
    1.0
    """
    true, pred = _prepare("mae", y_true, y_pred, multioutput)
    return _reduce(np.mean(np.abs(true.values - pred.values), axis=0), true, multioutput)


def rmse(y_true: Any, y_pred: Any, *, multioutput: str = "uniform_average") -> Any:
    """Root mean squared error, in the units of ``y``.

    The average over columns is the mean of the per-column RMSEs (as scikit-learn's
    ``root_mean_squared_error``), not the RMSE of all values pooled.

    Parameters
    ----------
    y_true, y_pred, multioutput
        As in :func:`mae`.

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series

    Examples
    --------
    >>> rmse([0.0, 0.0], [3.0, -1.0]) == 5**0.5
    True
    """
    true, pred = _prepare("rmse", y_true, y_pred, multioutput)
    per_column = np.sqrt(np.mean((true.values - pred.values) ** 2, axis=0))
    return _reduce(per_column, true, multioutput)


def mape(y_true: Any, y_pred: Any, *, multioutput: str = "uniform_average") -> Any:
    """Mean absolute percentage error, in percent: ``100 · mean(|y - ŷ| / |y|)``.

    scikit-learn's ``mean_absolute_percentage_error`` returns the same number divided by
    100 (a fraction).

    Zeros in ``y_true`` are refused: the error of a forecast of 0 would be infinite or
    undefined, and scikit-learn's answer (dividing by machine epsilon, ~1e15 %) hides that.
    Use :func:`smape`, :func:`mase` or :func:`mae` for series that touch 0.

    Parameters
    ----------
    y_true, y_pred, multioutput
        As in :func:`mae`.

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series

    Raises
    ------
    DataError
        ``y_true`` holds zeros: the message gives how many and where the first one is.

    Examples
    --------
    >>> mape([100.0, 200.0], [110.0, 180.0])
    10.0
    """
    true, pred = _prepare("mape", y_true, y_pred, multioutput)
    rows, cols = np.nonzero(true.values == 0)
    if rows.size:
        raise DataError(
            f"MAPE divides by the actual values, but y_true has {rows.size} zero(s), the first "
            f"at {true.where(rows[0], cols[0])}. Use smape, mase or mae for data with zeros, "
            "or leave those points out."
        )
    per_column = 100.0 * np.mean(np.abs(true.values - pred.values) / np.abs(true.values), axis=0)
    return _reduce(per_column, true, multioutput)


def smape(y_true: Any, y_pred: Any, *, multioutput: str = "uniform_average") -> Any:
    """Symmetric MAPE of the M3/M4 competitions, in percent from 0 to 200.

    ``200 · mean(|y - ŷ| / (|y| + |ŷ|))``; a step where both are 0 is a perfect forecast and
    counts as 0.

    Parameters
    ----------
    y_true, y_pred, multioutput
        As in :func:`mae`.

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series

    Examples
    --------
    >>> smape([100.0, 0.0], [300.0, 0.0])
    50.0
    """
    true, pred = _prepare("smape", y_true, y_pred, multioutput)
    denominator = np.abs(true.values) + np.abs(pred.values)
    ratio = np.divide(
        np.abs(true.values - pred.values),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return _reduce(200.0 * np.mean(ratio, axis=0), true, multioutput)


def mase(
    y_true: Any,
    y_pred: Any,
    y_train: Any,
    season_length: int = 1,
    *,
    multioutput: str = "uniform_average",
) -> Any:
    """Mean absolute scaled error: the MAE divided by the in-sample seasonal-naive MAE.

    ``scale = mean(|y_train[t] - y_train[t - m]|)`` over ``t = m .. len(y_train) - 1`` with
    ``m = season_length``, per column; ``mase = mae(y_true, y_pred) / scale``. A value below
    1 means the forecast beats what the seasonal-naive forecast did on the history.

    Parameters
    ----------
    y_true, y_pred, multioutput
        As in :func:`mae`.
    y_train : array-like of shape (n_train,) or (n_train, k), pandas.Series or DataFrame
        The history the forecast was made from (same columns as ``y_true``).
    season_length : int, default 1
        ``m``: 1 scales by the naive last-value forecast, 12 by "same month last year" on
        monthly data.

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series

    Raises
    ------
    DataError
        ``y_train`` has ``season_length`` rows or fewer, or a column whose scale is 0 (the
        history repeats itself exactly every ``season_length`` steps), named.

    Examples
    --------
    >>> round(mase([5.0, 6.0], [6.0, 6.0], y_train=[1.0, 2.0, 4.0]), 4)  # MAE 0.5 / scale 1.5
    0.3333
    """
    check_int("mase", "season_length", season_length, low=1)
    true, pred = _prepare("mase", y_true, y_pred, multioutput)
    train = _Data(y_train, "y_train")
    true.align(train)
    n_train = train.values.shape[0]
    if n_train <= season_length:
        raise DataError(
            f"y_train has {n_train} row(s), but the seasonal-naive scale of MASE with "
            f"season_length={season_length} needs at least {season_length + 1}. Pass a longer "
            "history or a smaller season_length."
        )
    scale = np.mean(np.abs(train.values[season_length:] - train.values[:-season_length]), axis=0)
    zero = np.flatnonzero(scale == 0)
    if zero.size:
        names = [train.columns[i] for i in zero] if train.columns is not None else list(zero)
        raise DataError(
            f"MASE is undefined for column(s) {names}: y_train repeats itself exactly every "
            f"season_length={season_length} step(s), so the seasonal-naive scale is 0. Use "
            "mae or smape for such series."
        )
    per_column = np.mean(np.abs(true.values - pred.values), axis=0) / scale
    return _reduce(per_column, true, multioutput)


# ------------------------------------------------------------------------------ quantiles


def _prepare_bounds(
    func: str, y_true: Any, y_lower: Any, y_upper: Any, multioutput: str
) -> tuple[_Data | None, _Data, _Data]:
    """Parse and align ``y_true`` (optional) and the bounds; refuse ``y_lower > y_upper``."""
    check_option(func, "multioutput", multioutput, _MULTIOUTPUT)
    lower, upper = _Data(y_lower, "y_lower"), _Data(y_upper, "y_upper")
    true = None if y_true is None else _Data(y_true, "y_true")
    first = true if true is not None else lower
    for other in (lower, upper) if true is not None else (upper,):
        first.align(other)
    rows, cols = np.nonzero(lower.values > upper.values)
    if rows.size:
        raise DataError(
            f"y_lower is above y_upper at {rows.size} point(s), the first at "
            f"{lower.where(rows[0], cols[0])}: interval bounds must not cross. Pass the lower "
            "quantile as y_lower."
        )
    return true, lower, upper


def pinball_loss(
    y_true: Any, y_pred: Any, quantile: float, *, multioutput: str = "uniform_average"
) -> Any:
    """Mean pinball (quantile) loss of a forecast of the ``quantile``-quantile.

    ``mean(max(q · (y - ŷ), (q - 1) · (y - ŷ)))``: under-forecasts cost ``q`` per unit,
    over-forecasts ``1 - q``. Equal to scikit-learn's ``mean_pinball_loss(y, ŷ, alpha=q)``;
    at ``q = 0.5`` it is half the MAE.

    Parameters
    ----------
    y_true, y_pred, multioutput
        As in :func:`mae`; ``y_pred`` holds the quantile forecasts (e.g. the ``y_q0.9``
        column of ``predict``).
    quantile : float
        The level ``q`` in (0, 1).

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series

    Examples
    --------
    >>> pinball_loss([10.0, 10.0], [8.0, 12.0], quantile=0.9)  # (0.9·2 + 0.1·2) / 2
    1.0
    """
    check_float(
        "pinball_loss", "quantile", quantile, low=0.0, high=1.0, low_open=True, high_open=True
    )
    true, pred = _prepare("pinball_loss", y_true, y_pred, multioutput)
    diff = true.values - pred.values
    per_column = np.mean(np.maximum(quantile * diff, (quantile - 1) * diff), axis=0)
    return _reduce(per_column, true, multioutput)


def coverage(
    y_true: Any, y_lower: Any, y_upper: Any, *, multioutput: str = "uniform_average"
) -> Any:
    """Empirical coverage: the fraction of ``y_true`` inside ``[y_lower, y_upper]`` (closed).

    Parameters
    ----------
    y_true, multioutput
        As in :func:`mae`.
    y_lower, y_upper : array-like, pandas.Series or pandas.DataFrame
        Interval bounds, shaped like ``y_true`` (e.g. the ``y_q0.1`` and ``y_q0.9`` columns).

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series
        In [0, 1]; compare it with the nominal coverage.

    Raises
    ------
    DataError
        Bounds that cross (``y_lower > y_upper``), located; shapes or indexes that differ.

    Examples
    --------
    >>> coverage([1.0, 5.0, 9.0, 3.0], [0.0, 0.0, 0.0, 3.0], [4.0, 4.0, 10.0, 3.0])
    0.75
    """
    true, lower, upper = _prepare_bounds("coverage", y_true, y_lower, y_upper, multioutput)
    if true is None:
        raise DataTypeError("coverage needs y_true; got None.")
    inside = (lower.values <= true.values) & (true.values <= upper.values)
    return _reduce(np.mean(inside, axis=0), true, multioutput)


def interval_width(y_lower: Any, y_upper: Any, *, multioutput: str = "uniform_average") -> Any:
    """Mean width ``y_upper - y_lower`` of intervals, in the units of ``y``.

    Parameters
    ----------
    y_lower, y_upper
        As in :func:`coverage`.
    multioutput
        As in :func:`mae`.

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series

    Examples
    --------
    >>> interval_width([0.0, 1.0], [2.0, 5.0])
    3.0
    """
    _, lower, upper = _prepare_bounds("interval_width", None, y_lower, y_upper, multioutput)
    return _reduce(np.mean(upper.values - lower.values, axis=0), lower, multioutput)


def winkler_score(
    y_true: Any,
    y_lower: Any,
    y_upper: Any,
    coverage: float,
    *,
    multioutput: str = "uniform_average",
) -> Any:
    """Mean Winkler (interval) score of intervals of nominal ``coverage`` (lower is better).

    ``(u - l) + (2 / α) · (l - y)`` if ``y < l``, ``+ (2 / α) · (y - u)`` if ``y > u``, with
    ``α = 1 - coverage`` (Winkler, 1972; Gneiting & Raftery, 2007). A proper score: in
    expectation, no interval beats the true ``α/2`` and ``1 - α/2`` quantiles. It equals
    ``2 / α`` times the sum of the pinball losses of the two bounds at those levels.

    Parameters
    ----------
    y_true, y_lower, y_upper
        As in :func:`coverage`.
    coverage : float
        Nominal coverage ``c`` of the intervals, in (0, 1) (0.8 for ``y_q0.1``-``y_q0.9``).
    multioutput
        As in :func:`mae`.

    Returns
    -------
    float, numpy.ndarray of shape (k,) or pandas.Series

    Examples
    --------
    >>> winkler_score([5.0, 12.0], [0.0, 0.0], [10.0, 10.0], coverage=0.5)  # (10 + 10+4·2) / 2
    14.0
    """
    check_float(
        "winkler_score", "coverage", coverage, low=0.0, high=1.0, low_open=True, high_open=True
    )
    true, lower, upper = _prepare_bounds("winkler_score", y_true, y_lower, y_upper, multioutput)
    if true is None:
        raise DataTypeError("winkler_score needs y_true; got None.")
    alpha = 1.0 - coverage
    y, lo, hi = true.values, lower.values, upper.values
    score = (hi - lo) + (2 / alpha) * (np.maximum(lo - y, 0) + np.maximum(y - hi, 0))
    return _reduce(np.mean(score, axis=0), true, multioutput)
