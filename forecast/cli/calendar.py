"""Calendar features on the command line, computed rather than supplied.

A known-future covariate named like one of :data:`forecast.features.CALENDAR_FEATURES`
(``day_of_week``, ``month``, ...) is a function of the timestamp alone. So:

* ``forecast fit --future-covariates day_of_week,month`` on data without those columns adds
  them, computed by :func:`forecast.features.calendar_features` from the time column;
* ``forecast predict`` of a model whose known-future covariates are all calendar features
  needs no ``--future-data``: their values over the horizon are computed from each series'
  future timestamps (the frame ``make_future_frame`` builds:
  :func:`forecast.forecasters._future_frame.future_frame`), and those of the history
  (``--data``) too where it lacks the columns.

A history that has such a column must hold exactly the computed values (a ``month`` column
of 1 to 12 is another feature, of the same name): otherwise predict stops with a
:class:`~forecast.UsageError` asking for ``--future-data``, rather than feeding the network
values of another scale than it was trained on. (When predict reads no ``--data``, the
model's training data is the history: a model fitted on its own ``month`` column of other
values than these is then not detected; fit it through the command line, which computes
them, or pass ``--future-data``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forecast._exceptions import UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_calendar_columns", "calendar_names"]


def calendar_names(names: Any) -> list[str]:
    """Those of ``names`` that are calendar features forecast computes."""
    from forecast.data.features import CALENDAR_FEATURES

    return [n for n in (names or []) if n in CALENDAR_FEATURES]


def _times(df: pd.DataFrame, time_col: str | None) -> Any:
    return df[time_col] if time_col is not None else df.index


def add_calendar_columns(
    df: pd.DataFrame, names: list[str], time_col: str | None, *, check: bool = False
) -> pd.DataFrame:
    """``df`` with the calendar features ``names`` it lacks, computed from its timestamps.

    With ``check``, columns it has must equal the computed ones (else a UsageError).
    """
    import numpy as np

    from forecast.features import calendar_features

    if not names:
        return df
    computed = calendar_features(_times(df, time_col), features=names)
    out = df.copy()
    for name in names:
        values = computed[name].to_numpy()
        if name not in out.columns:
            out[name] = values
        elif check and not np.allclose(
            out[name].to_numpy(dtype=float), values, rtol=0, atol=1e-6, equal_nan=False
        ):
            raise UsageError(
                f"Column {name!r} of the data is not forecast's calendar feature {name!r} "
                f"(forecast.features.calendar_features: the position in its cycle scaled to "
                "[-0.5, 0.5]), so its future values cannot be computed; give them with "
                "--future-data."
            )
    return out
