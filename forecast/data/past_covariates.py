"""Which columns are past covariates: the ``past_covariates=`` parameter, and its default.

Past covariates are read in the input window only (their future is not needed). A user
names them with ``past_covariates=[...]`` (``[]``: none); ``None`` keeps the older rule,
*every numeric column that is neither a target nor a future or static covariate*, which is
convenient and dangerous: after ``df.reset_index()`` the leftover row number ``index`` was
silently an input (issue 19). So, with ``None``:

* a column that looks like a leftover row number (named ``index``, ``level_0`` or
  ``Unnamed: 0`` as pandas names them, integer, no value twice) is refused, with the fix;
* the columns chosen are named once (per process, forecaster class and set of columns) in a
  warning on the ``forecast`` logger (:func:`notice_implicit`).

Why a logged warning and not :func:`warnings.warn`: many test suites (ours, and users') turn
warnings into errors, which would make a working fit fail for a column choice that is
often right; a logger warning is still printed to stderr when logging is not configured
(Python's last-resort handler), so a new user sees it, and it is silenced by passing
``past_covariates`` (or by the logging configuration).
"""

from __future__ import annotations

import logging

import pandas as pd
from pandas.api.types import is_integer_dtype

from forecast._exceptions import DataError, DataTypeError, InvalidParameterError

__all__ = ["check_roles", "choose_past", "notice_implicit"]

logger = logging.getLogger("forecast")

_ROW_NUMBER_NAMES = ("index", "level_0")
_noticed: set[tuple[str, tuple[str, ...]]] = set()


def _names(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _row_numbers(name: str, column: pd.Series) -> bool:
    """Whether ``column`` looks like a row number left by ``reset_index`` or ``read_csv``."""
    if name not in _ROW_NUMBER_NAMES and not name.startswith("Unnamed: "):
        return False
    return is_integer_dtype(column) and bool(column.is_unique)


def choose_past(
    rest: pd.DataFrame,
    numeric: list[str],
    targets: list[str],
    past: str | list[str] | None,
    reserved: set[str],
) -> list[str]:
    """The past covariates: ``past`` checked against the frame, or the default rule.

    Parameters
    ----------
    rest : pandas.DataFrame
        The frame without its id and time columns.
    numeric : list of str
        Its numeric columns that are not future or static covariates.
    targets : list of str
        The target columns.
    past : str, list of str or None
        The ``past_covariates`` parameter.
    reserved : set of str
        The future and static covariates.

    Raises
    ------
    DataError, DataTypeError, InvalidParameterError
        A listed column missing from the frame, not numeric, or with another role; with
        ``past=None``, a leftover row-number column.
    """
    if past is None:
        chosen = [c for c in numeric if c not in targets]
        leftover = [c for c in chosen if _row_numbers(str(c), rest[c])]
        if leftover:
            raise DataError(
                f"Column {leftover[0]!r} looks like a leftover row number (integers, each "
                "once, named as reset_index() or read_csv name them), and would be read as a "
                "past covariate, since past_covariates=None uses every numeric column that is "
                f"not a target. Drop it (df.drop(columns=[{leftover[0]!r}]), or "
                "reset_index(drop=True)), or name the inputs: past_covariates=[...] (list it "
                "there to really use it)."
            )
        return chosen
    listed = _names(past)
    absent = [c for c in listed if c not in rest.columns]
    if absent:
        raise DataError(
            f"past_covariates {absent} are not columns of the data. Columns: "
            f"{[str(c) for c in rest.columns]} (besides the id and time columns)."
        )
    both = [c for c in listed if c in targets or c in reserved]
    if both or len(set(listed)) != len(listed):
        twice = both or sorted({c for c in listed if listed.count(c) > 1})
        raise InvalidParameterError(
            f"Columns {twice} are listed in past_covariates and as a target, a future or "
            "static covariate, or twice; give each column one role."
        )
    for c in listed:
        if c not in numeric:
            raise DataTypeError(
                f"Past covariate column {c!r} must be numeric; it has dtype {rest[c].dtype}. "
                f"Convert it (pandas.to_numeric(df[{c!r}]), or one-hot encode a category)."
            )
    return listed


def notice_implicit(owner: str, columns: list[str]) -> None:
    """Name, once per process, the columns ``past_covariates=None`` made inputs of ``owner``."""
    key = (owner, tuple(columns))
    if not columns or key in _noticed:
        return
    _noticed.add(key)
    logger.warning(
        "%s reads %s as past covariates (past_covariates=None: every numeric column that is "
        "not a target or a future/static covariate). Pass past_covariates=[...] to choose "
        "them (past_covariates=[] for none) and silence this.",
        owner,
        columns,
    )


def check_roles(owner: object, past: str | list[str] | None, others: dict[str, object]) -> None:
    """``past_covariates`` must not name the target, id, time, future or static columns."""
    for name, value in others.items():
        taken = set(_names(value))  # type: ignore[arg-type]
        clash = [c for c in _names(past) if c in taken]
        if clash:
            raise InvalidParameterError(
                f"The 'past_covariates' parameter of {type(owner).__name__} lists {clash}, "
                f"which {name} names too; give each column one role. Got "
                f"past_covariates={past!r} instead."
            )
    if past is not None and not all(isinstance(c, str) for c in _names(past)):
        raise InvalidParameterError(
            f"The 'past_covariates' parameter of {type(owner).__name__} must be a column name, "
            f"a list of them, or None. Got {past!r} instead."
        )
