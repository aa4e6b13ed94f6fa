"""``--preset panel``: the command line's :func:`forecast.presets.panel_forecaster`.

``forecast fit --preset panel --season-length 12 --horizon 18 --data sales.csv --out m``
fits the model the accuracy guide recommends for a panel of many short series: a recurrent
network with :func:`forecast.presets.panel_params`' settings, combined with Theta, the
damped trend and ETS fitted per series (``--partner theta+damped-trend+ets`` at weight 0.5;
without a season the optimised Theta in place of Theta, ``optimised-theta+damped-trend+ets``). Its
settings depend on the series' lengths (they cap the input length), so the command reads
the data before it builds the estimator.

* Flags and ``[model]`` parameters override the preset's one by one; a ``trainer_kwargs``
  given is merged into the preset's (``{"accelerator": "cpu"}`` keeps its step budget).
* ``--partner`` picks another partner, ``--partner none`` keeps the network alone (with
  the preset's settings).
* Without ``--estimator`` the network is an LSTM, as ``panel_forecaster``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from forecast._exceptions import UsageError

__all__ = ["PRESETS", "preset_params", "series_lengths"]

PRESETS = ("panel",)


def preset_params(
    preset: str, cls: type, params: Mapping[str, Any], lengths: np.ndarray | None
) -> dict[str, Any]:
    """``cls``' parameters under ``preset``: the preset's, then ``params`` (the flags' and
    ``[model]``'s) over them.

    Parameters
    ----------
    preset : str
        One of :data:`PRESETS`.
    cls : type
        The estimator class of ``--estimator``; a recurrent one.
    params : mapping
        The parameters given on the command line or in ``[model]``; they win.
    lengths : ndarray or None
        Each series' number of rows (:func:`series_lengths`); None when the data is not
        read before the fit (parts under DDP), so that the input length is not capped.

    Returns
    -------
    dict
        Keyword arguments for ``cls``.

    Raises
    ------
    UsageError
        For an unknown preset, an estimator that is not recurrent, or a missing
        ``--season-length`` or ``--horizon``.
    """
    from forecast.forecasters.presets import panel_params
    from forecast.forecasters.recurrent import RNNForecaster

    if preset not in PRESETS:
        raise UsageError(
            f"--preset (preset in [model]) is one of {', '.join(PRESETS)}; got {preset!r}."
        )
    if not issubclass(cls, RNNForecaster):
        raise UsageError(
            f"--preset {preset} sets a recurrent network's parameters; {cls.__name__} is not one. "
            "Use --estimator lstm, gru or rnn (or leave --estimator out: lstm)."
        )
    missing = [
        f"--{name.replace('_', '-')}" for name in ("season_length", "horizon") if name not in params
    ]
    if missing:
        raise UsageError(
            f"--preset {preset} derives its settings from the season and the horizon: add "
            f"{' and '.join(missing)} (season_length and horizon in [model]; a season of 12 "
            "for monthly data, 4 quarterly, 1 for none)."
        )
    season, horizon = params["season_length"], params["horizon"]
    if season is None or horizon is None:
        raise UsageError(f"--preset {preset} needs a --season-length and a --horizon, not none.")
    chosen = panel_params(int(season), int(horizon), lengths)
    trainer_kwargs = {**chosen["trainer_kwargs"], **(params.get("trainer_kwargs") or {})}
    return chosen | dict(params) | {"trainer_kwargs": trainer_kwargs}


def series_lengths(df: Any, id_col: str | None) -> np.ndarray:
    """Each series' number of rows in ``df``, as the estimator will split it into series.

    Parameters
    ----------
    df : pandas.DataFrame
        The data as read: a long frame with an ``id_col`` column, a frame with a
        ``MultiIndex (id, time)`` (the ids are its first level, as the estimators read it),
        or a wide frame (one series).
    id_col : str or None
        The estimator's ``id_col``.

    Returns
    -------
    numpy.ndarray of int
        One length per series (unused categories of a categorical id left out).

    Raises
    ------
    UsageError
        When ``id_col`` is named but is neither a column nor the frame's id level.

    Examples
    --------
    >>> import pandas as pd
    >>> series_lengths(pd.DataFrame({"id": ["a", "a", "b"], "y": [1, 2, 3]}), "id").tolist()
    [2, 1]
    """
    import pandas as pd

    if id_col is not None and id_col in df.columns:
        return df.groupby(id_col, sort=False, observed=True).size().to_numpy()
    if isinstance(df.index, pd.MultiIndex):  # (id, time), ids first: as the panel reads it
        return df.groupby(level=0, sort=False, observed=True).size().to_numpy()
    if id_col is None:
        return np.array([len(df)])
    raise UsageError(
        f"id_col '{id_col}' is not a column of the data (columns: "
        f"{', '.join(map(str, df.columns))}); pass --id-col with the column that names "
        "each series."
    )
