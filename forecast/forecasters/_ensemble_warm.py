"""A warm start of an ensemble: each member continues the fitted member at its position.

``EnsembleForecaster(LSTMForecaster(..., warm_start=True))`` fitted a second time: its
members are new clones of the base estimator, never fitted, so without this each would
start cold while the estimator says ``warm_start=True``. Instead member ``i`` continues
fitted member ``i`` (its weights and scalers, as :mod:`forecast.forecasters._warm_start`
continues a single model), with the parameters and seed member ``i`` of this fit has.
Members beyond the fitted ones (a larger ``n_members``) start cold, as the first fit of a
``warm_start=True`` forecaster does; a member whose fit would be refused is refused before
any member trains.
"""

from __future__ import annotations

from typing import Any

from forecast._exceptions import InvalidParameterError
from forecast.data.panel import Panel
from forecast.forecasters._warm_start import check_warm_start

__all__ = ["continued_members"]


def continued_members(fitted: list[Any] | None, members: list[Any], panel: Panel) -> list[Any]:
    """``members`` (fresh clones), each replaced by the fitted member it continues.

    Parameters
    ----------
    fitted : list of forecasters, or None
        The ensemble's fitted members (``members_``), None when it is not fitted.
    members : list of forecasters
        This fit's members: clones of the base estimator with their settings and seeds.
    panel : Panel
        The data of this fit (its columns and frequency are checked).

    Returns
    -------
    list of forecasters
        Member ``i`` of ``members``, or, where it has ``warm_start=True`` and there is a
        fitted member ``i``, that fitted member with member ``i``'s parameters set.

    Raises
    ------
    InvalidParameterError
        A fitted member of another class, or one this fit does not match (as a single
        model's warm start refuses it), before any member trains.
    """
    if not fitted:
        return members
    out = []
    for i, member in enumerate(members):
        if i >= len(fitted) or not getattr(member, "warm_start", False):
            out.append(member)
            continue
        old = fitted[i]
        if type(old) is not type(member):
            raise InvalidParameterError(
                f"The base estimator has warm_start=True, but member {i} of the fitted "
                f"ensemble is a {type(old).__name__}, not a {type(member).__name__}. "
                "Set warm_start=False to train new members."
            )
        old.set_params(**member.get_params(deep=False))  # keeps its fitted attributes
        check_warm_start(old, panel)  # refused here, not after earlier members trained
        out.append(old)
    return out
