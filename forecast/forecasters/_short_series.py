"""``drop_short=True``: the series too short to train on, left out at fit and served after.

:func:`trainable_series` is what a recurrent fit keeps: a series too short for one
training window is an error naming it, or with ``drop_short=True`` left out with a warning.

A recurrent model fitted with ``drop_short=True`` left out the series too short to train
on. ``predict(df)``, ``plot_forecast(model, df)`` and backtests on that same frame must
still answer for the others: a left-out series is forecast where the model can (a window
scaler needs no fitted statistics, and the series has ``seq_len`` rows), and otherwise is
left out of the answer with a warning naming it, never an error for the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast._exceptions import DataError
from forecast._warnings import warn
from forecast.data.panel import Panel, series_positions
from forecast.forecasters._fit_windows import min_training_rows, partial_horizons, too_short

__all__ = ["forecastable", "trainable_series", "usable_series"]


def trainable_series(owner: Any, panel: Panel, val_rows: np.ndarray) -> Panel:
    """``panel`` without the series too short for one training window of ``owner`` (a
    recurrent forecaster) and its validation tail ``val_rows`` ``(S,)``: dropped with a
    warning under ``drop_short=True`` (unless every series is), else a ``DataError``."""
    short = np.flatnonzero(too_short(owner, panel.lengths, val_rows))
    if not short.size:
        return panel
    window = min_training_rows(owner)
    shown = panel.describe(short)
    rule = "seq_len + 1" if partial_horizons(owner) else "seq_len + horizon"
    need = (
        f"one training window needs {rule} = {window} rows, plus "
        f"{int(val_rows[short[0]])} for validation (validation_size="
        f"{owner.validation_size!r})"
    )
    if owner.drop_short and short.size < panel.n_series:
        warn(f"Dropped {short.size} series too short to train on: {shown}; {need}.")
        return panel.subset(np.setdiff1d(np.arange(panel.n_series), short))
    raise DataError(
        f"Too few rows to train: {shown}, but {need}. Use a shorter seq_len or "
        "horizon, "
        + (
            "partial_horizons=True (seq_len + 1 rows), "
            if hasattr(owner, "partial_horizons")
            and not partial_horizons(owner)
            and not owner.future_covariates  # refused with them
            else ""
        )
        + "a smaller validation_size, or more history"
        + (
            ", or drop_short=True to leave these series out."
            if panel.ids != [None] and short.size < panel.n_series
            else "."
        )
    )


def forecastable(owner: Any, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which origins (``series``, ``ends``) a ``drop_short`` model can forecast from.

    All of them for a model without ``drop_short=True`` (its errors stay errors). Else a
    series it was fitted on, or one with ``seq_len`` rows of history under a scaler that
    needs no fitted statistics (``"window"``, ``"window_level"``, ``"window_diff"``, None).
    """
    members = owner._fitted_members()
    if members:  # a meta-forecaster (an ensemble) forecasts what its members can
        return np.logical_and.reduce([forecastable(m, panel, series, ends) for m in members])
    if not owner.get_params(deep=False).get("drop_short", False):
        return np.ones(len(series), dtype=bool)
    known = series_positions(panel.ids, owner.series_ids_)[0] >= 0  # (S,)
    enough = ends - panel.offsets[series] >= owner.seq_len
    return known[series] | (enough & (not owner.scaler_.is_global))


def usable_series(owner: Any, panel: Panel) -> Panel:
    """``panel`` without the series ``owner`` cannot forecast from their ends (warned)."""
    series = np.arange(panel.n_series)
    ok = forecastable(owner, panel, series, panel.offsets[1:])
    if ok.all():
        return panel
    bad = np.flatnonzero(~ok)
    owner = (owner._fitted_members() or [owner])[0]  # whose seq_len and scaler say why
    what = (
        f"{len(bad)} series that {type(owner).__name__} was not fitted on (drop_short=True "
        f"left it out, or it is new) and cannot forecast: {panel.describe(bad)} row(s); it "
        f"reads seq_len="
        f"{owner.seq_len} rows, and scaler={owner.scaler_.method!r}"
        + (
            " has statistics only for the series it was fitted on"
            if owner.scaler_.is_global
            else ""
        )
    )
    if not ok.any():
        raise DataError(f"No series to forecast: {what}.")
    warn(f"No forecast for {what}. Use scaler='window' or a longer history to forecast them.")
    return panel.subset(np.flatnonzero(ok))
