"""Per-series isolation at predict time: which series are bad, and what is done with them.

``predict(df, on_bad_series=..., max_staleness=..., expect_ids=...)`` of every
:class:`~forecast.BaseForecaster` comes here when any of them is set. The series of ``df``
are classified once, in :func:`check_series`, the one place that knows the reasons:

``"absent"``
    an id of ``expect_ids`` with no row in ``df`` (counted in the bad fraction; nothing
    can be forecast for it, whatever ``on_bad_series`` is).
``"missing_values"``
    NaN or infinity in a column the model reads, anywhere in the series' rows of ``df``.
``"gap"``
    timestamps that do not step by the model's frequency (a missing period, an extra one).
``"invalid"``
    any other per-series problem the conversion refuses (e.g. a duplicate timestamp);
    the detail is the library's own message.
``"stale"``
    the series ends more than ``max_staleness`` periods before the latest timestamp of
    ``df``: forecasting it would give forecasts for dates the job did not ask for.
``"missing_history"``
    with ``missing="mask"``: the rows the model reads observe no value of a target.
``"short"``, ``"unseen"``
    fewer rows than the model reads, or an id whose per-series statistics the model does
    not have (:meth:`BaseForecaster._unservable`, each forecaster's own hook).
``"transform_range"``
    found by forecasting, not by :func:`check_series`: the series' forecast left the range
    of ``target_transform="boxcox"`` (a :class:`~forecast.NumericalError` whose ``series``
    names it); the other series are forecast again without it (:func:`_forecast_good`).

A missing-value policy that accepts gaps (``missing="mask"``) changes only
:mod:`forecast.evaluation.isolation` (shared with ``backtest``): the rest reads the reasons.

What is done (``on_bad_series``):

``"fail"`` (default)
    :class:`~forecast.BadSeriesError` naming the bad series (today's behaviour: nothing is
    forecast); its ``report`` says which and why.
``"skip"``
    every good series is forecast; the bad ones are left out, with a warning naming them.
``"fallback"``
    the bad series are forecast by a baseline from their own last rows as given: seasonal
    naive with ``fallback_season`` (default: the model's ``season_length``, or the largest
    of its members', if any has one; see :func:`_fallback_season`) when the series' last
    ``m`` rows are finite and regular, else naive: the last row, or where it is not finite
    (the latest value not in yet) each target's last finite value, continued past the
    missing rows as a stale series' is; nothing only when a target has no finite value
    (the series is then skipped, and the report says so).
    A stale series' fallback continues its last value (or season) up to the dates every
    other series is forecast for, after the latest timestamp of ``df``. The output gains a
    ``source`` column: ``"model"``, ``"naive"`` or ``"seasonal_naive"``; quantile columns
    are empty (NaN) on fallback rows (a baseline has no intervals).

The report (``frame.attrs["bad_series"]`` on a pandas result, ``BadSeriesError.report``,
``forecast predict --report``) is a dict: ``n_series`` (in ``df``, plus absent ones),
``n_bad``, ``bad_fraction``, ``on_bad_series``, ``latest`` (ISO timestamp) and ``bad``, a
list of ``{"id", "reason", "detail", "action"}`` with ``action`` one of ``"failed"``,
``"skipped"``, ``"naive"``, ``"seasonal_naive"``, ``"none"`` (absent series).

Symbols: S series, H horizon, T targets, m season length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import BadSeriesError, InvalidParameterError, NumericalError
from forecast._validation import series_name
from forecast._warnings import warn
from forecast.data.frequency import future_times
from forecast.data.output import forecast_frame
from forecast.data.panel import Columns, Panel, _check_at_predict, _split_layout, series_positions
from forecast.evaluation.isolation import (
    classify_failure,
    failing_series,
    missing_values,
    series_codes,
)

# A fitted BaseForecaster: typed Any, since base.py calls this module (an import of base
# here, even for types only, would be an import cycle).
BaseForecaster = Any

__all__ = [
    "ON_BAD_SERIES",
    "BadSeries",
    "check_series",
    "members_unservable",
    "predict_isolated",
    "unservable",
]

ON_BAD_SERIES = ("fail", "skip", "fallback")
_SHOWN = 10  # bad series named in a message


@dataclass(frozen=True)
class BadSeries:
    """One bad series: its id, why it is bad, the detail, and what was done."""

    id: Any
    reason: str
    detail: str
    action: str = "failed"


@dataclass
class SeriesCheck:
    """What :func:`check_series` found in a history ``df``."""

    good: pd.DataFrame  # the rows of the good series, in their order in df
    bad: list[BadSeries]
    ids: list[Any]  # every series of df, in canonical order
    n_series: int  # series of df plus absent expected ones
    latest: pd.Timestamp
    lags: dict[Any, int]  # steps between a stale series' end and `latest`

    def report(self, on_bad_series: str) -> dict[str, Any]:
        """The JSON-ready report (see the module's docstring)."""
        return {
            "on_bad_series": on_bad_series,
            "n_series": self.n_series,
            "n_bad": len(self.bad),
            "bad_fraction": len(self.bad) / self.n_series if self.n_series else 0.0,
            "latest": self.latest.isoformat(),
            "bad": [_jsonable(asdict(b)) for b in self.bad],
        }


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    sid = entry["id"]
    if isinstance(sid, np.generic):
        entry["id"] = sid.item()
    elif not isinstance(sid, str | int | float | bool | type(None)):
        entry["id"] = str(sid)
    return entry


def _describe(bad: Sequence[BadSeries]) -> str:
    shown = "; ".join(f"{series_name(b.id)}: {b.reason} ({b.detail})" for b in bad[:_SHOWN])
    more = f"; and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
    return f"{len(bad)} bad series: {shown}{more}"


# ------------------------------------------------------------------------------ checks


def _steps_behind(last: pd.DatetimeIndex, latest: pd.Timestamp, freq: Any) -> np.ndarray:
    """Periods of ``freq`` from each of ``last`` to ``latest`` (on that series' grid)."""
    if isinstance(freq, pd.offsets.Tick):  # fixed length: arithmetic, however far behind
        return np.maximum((latest - last) // pd.Timedelta(freq), 0).to_numpy(dtype=np.int64)
    steps = np.zeros(len(last), dtype=np.int64)
    for stamp in pd.unique(last):  # calendar steps: counted; few distinct ends in practice
        n = len(pd.date_range(start=stamp, end=latest, freq=freq)) - 1
        steps[last == stamp] = max(n, 0)
    return steps


def unservable(
    panel: Panel, min_rows: int, fitted_ids: list[Any] | None, window: int | None = None
) -> dict[int, tuple[str, str]]:
    """A forecaster's ``_unservable``: series shorter than ``min_rows``; with ``fitted_ids``
    (a model with per-series statistics), series not among them; with ``missing="mask"``
    (NaN in the panel), series whose last ``window`` rows (all of them: None) observe no
    value of some target."""
    found: dict[int, tuple[str, str]] = {}
    if fitted_ids is not None:
        _, unknown = series_positions(panel.ids, fitted_ids)
        unseen = set(unknown)
        for i, sid in enumerate(panel.ids):
            if sid in unseen:
                found[i] = ("unseen", "not seen at fit: the model has no statistics for it")
    for i in np.flatnonzero(panel.lengths < min_rows).tolist():
        found.setdefault(i, ("short", f"{panel.lengths[i]} row(s); the model reads {min_rows}"))
    targets = panel.values[:, : len(panel.target_names)]
    if np.isnan(targets).any():
        count = np.concatenate([np.zeros((1, targets.shape[1])), np.cumsum(~np.isnan(targets), 0)])
        ends = panel.offsets[1:]
        starts = (
            panel.offsets[:-1] if window is None else np.maximum(ends - window, panel.offsets[:-1])
        )
        for i in np.flatnonzero(((count[ends] - count[starts]) == 0).any(axis=1)).tolist():
            rows = "rows" if window is None else f"last {window} rows (seq_len)"
            found.setdefault(i, ("missing_history", f"its {rows} observe no target value"))
    return found


def members_unservable(members: Sequence[Any], panel: Panel) -> dict[int, tuple[str, str]]:
    """A meta-forecaster's ``_unservable``: the series any of its fitted ``members`` cannot
    serve (a median or mean of members' forecasts needs every member's), each with the
    first member's reason."""
    found: dict[int, tuple[str, str]] = {}
    for member in members:
        for position, why in member._unservable(panel).items():
            found.setdefault(position, why)
    return found


def _narrowest_dtype(model: BaseForecaster) -> np.dtype:
    """The narrowest dtype ``model``, or any member of it, reads: a series with a value that
    dtype cannot hold is bad, also where a combination converts at a wider one (its
    network member's float32 would refuse the whole panel at predict)."""
    dtypes = [model._panel_dtype(), *map(_narrowest_dtype, model._fitted_members())]
    return min(dtypes, key=lambda dtype: dtype.itemsize)


def check_series(
    model: BaseForecaster,
    df: pd.DataFrame,
    *,
    max_staleness: int | None = None,
    expect_ids: Iterable[Any] | None = None,
) -> SeriesCheck:
    """Classify the series of ``df`` (a history in the fitted layout) as good or bad.

    Problems of the whole frame (a missing column, no timestamps) are raised as they are:
    they are no one series' fault.
    """
    layout = model.layout_
    rest, _, times, raw_ids = _split_layout(df, layout.id_col, layout.time_col)
    columns = Columns(
        targets=model.target_names_,
        past=model.covariate_names_,
        future=model.future_names_,
        static=model.static_names_,
    )
    _check_at_predict(rest, columns)  # frame-level: raised, not blamed on every series
    if raw_ids is not None and pd.isna(raw_ids).any():
        model._to_fitted_panel(df)  # raises its message naming the row
    codes, ids = series_codes(raw_ids, len(rest))
    bad: dict[int, BadSeries] = {}
    used = [*columns.targets, *columns.past, *columns.future]
    allow_nan = model.missing == "mask"  # gaps and NaN are served: infinity is not
    for code, detail in missing_values(rest, used, codes, times, allow_nan).items():
        bad[code] = BadSeries(ids[code], "missing_values", detail)
    clean = np.setdiff1d(np.arange(len(ids)), np.fromiter(bad, dtype=np.int64, count=len(bad)))
    convert = partial(model._to_fitted_panel, dtype=_narrowest_dtype(model))
    for code in failing_series(convert, df, codes, clean):
        rows = np.flatnonzero(codes == code)
        why = classify_failure(convert, df.iloc[rows], times[rows], ids[code], model.freq_)
        bad[code] = BadSeries(ids[code], *why)

    last = np.full(len(ids), np.iinfo(np.int64).min)
    np.maximum.at(last, codes, times.asi8)  # in the unit of the timestamps, UTC
    last_times = pd.DatetimeIndex(last.view(f"M8[{times.unit}]"))
    if times.tz is not None:
        last_times = last_times.tz_localize("UTC").tz_convert(times.tz)
    latest = last_times.max()
    lags = dict(zip(ids, _steps_behind(last_times, latest, model.freq_), strict=True))
    if max_staleness is not None:
        for code, sid in enumerate(ids):
            if code not in bad and lags[sid] > max_staleness:
                bad[code] = BadSeries(
                    sid,
                    "stale",
                    f"ends at {last_times[code]}, {lags[sid]} periods before the latest "
                    f"timestamp {latest} (max_staleness={max_staleness})",
                )
    good_codes = np.setdiff1d(np.arange(len(ids)), np.fromiter(bad, dtype=np.int64, count=len(bad)))
    if good_codes.size:
        panel = model._to_fitted_panel(df.iloc[np.flatnonzero(np.isin(codes, good_codes))])
        for position, (reason, detail) in model._unservable(panel).items():
            bad[int(good_codes[position])] = BadSeries(panel.ids[position], reason, detail)
    entries = [bad[code] for code in sorted(bad)]
    absent = []
    if expect_ids is not None:
        seen = set(ids)
        absent = [
            BadSeries(sid, "absent", "expected, but no row in the data", "none")
            for sid in expect_ids
            if sid not in seen
        ]
    good_rows = np.flatnonzero(~np.isin(codes, np.fromiter(bad, dtype=np.int64, count=len(bad))))
    return SeriesCheck(
        good=df.iloc[good_rows],
        bad=entries + absent,
        ids=ids,
        n_series=len(ids) + len(absent),
        latest=latest,
        lags={sid: int(lag) for sid, lag in lags.items()},
    )


# ------------------------------------------------------------------------------ fallback


def _fallback_season(model: BaseForecaster, season: int | None) -> int:
    """The fallback's season length: ``season`` if given, else the largest ``season_length``
    of the model and its fitted members (nested), else 1 (naive).

    A combination or an ensemble has no ``season_length`` of its own, only its members':
    ``panel_forecaster(12, ...)``'s Theta, damped trend and ETS, a network that
    de-seasonalises. Members without one (a network of the raw series) do not make the
    data unseasonal. Where members disagree (12 beside 4), the largest: its seasonal naive
    repeats the last whole cycle of the longest season, which repeats every season that
    divides it, and a series too short or irregular for it still falls back to naive.
    Refusing would fail the very predict the fallback keeps going; ``fallback_season``
    (``--fallback-season``) overrides.
    """
    if season is not None:
        return int(season)
    return max(_season_lengths(model), default=1)


def _season_lengths(model: BaseForecaster) -> list[int]:
    """The ``season_length`` of ``model`` (if set) and of each of its fitted members."""
    own = model.get_params(deep=False).get("season_length")
    nested = [m for member in model._fitted_members() for m in _season_lengths(member)]
    return ([int(own)] if own else []) + nested


def _baseline(
    model: BaseForecaster,
    part: pd.DataFrame,
    season: int,
    lag: int,
) -> tuple[str, np.ndarray | None, pd.Timestamp | None, str]:
    """The fallback forecast ``(H, T)`` of one series from its own last rows.

    Returns the method, the values (None: no forecast), the cutoff the forecast continues
    from (the latest timestamp for a stale series), and why a method was not possible.
    """
    layout = model.layout_
    rest, _, times, _ = _split_layout(part, layout.id_col, layout.time_col)
    order = np.argsort(times.asi8, kind="stable")
    times = times[order]
    values = (
        rest[model.target_names_]
        .apply(pd.to_numeric, errors="coerce")
        .to_numpy(dtype=np.float64)[order]
    )  # (n, T)
    horizon = model.horizon
    steps = lag + np.arange(1, horizon + 1)  # periods after the series' last row
    cutoff = future_times(times[-1:], model.freq_, lag)[-1][0] if lag else times[-1]
    why = ""
    if season > 1:
        tail = values[-season:]
        expected = pd.date_range(end=times[-1], periods=season, freq=model.freq_)
        regular = len(tail) == season and times[-season:].equals(expected)
        if regular and np.isfinite(tail).all():
            back = season * np.ceil(steps / season).astype(np.int64)  # (H,)
            return "seasonal_naive", values[len(values) - 1 + steps - back], cutoff, ""
        why = f"its last {season} rows are not {season} regular finite rows; "
    if np.isfinite(values[-1]).all():
        return "naive", np.repeat(values[-1:], horizon, axis=0), cutoff, why
    # A history ending in NaN (its latest value not in yet) is the case a fallback is for:
    # continue each target's last finite value past the missing rows, as a stale series'
    # last value is continued past the periods it lacks. Skipping it left it out silently
    # wherever the warning was suppressed.
    finite = np.isfinite(values)
    if not finite.any(axis=0).all():
        return "skipped", None, None, why + "a target has no finite value"
    rows = len(values) - 1 - np.argmax(finite[::-1], axis=0)  # (T,) last finite row each
    last = values[rows, np.arange(values.shape[1])]
    why += f"its last row is not finite: naive from its last finite value, at {times[rows.min()]}"
    return "naive", np.repeat(last[None, :], horizon, axis=0), cutoff, why


# ------------------------------------------------------------------------------ predict


def _ordered(frame: pd.DataFrame, model: BaseForecaster, ids: list[Any]) -> pd.DataFrame:
    """Rows of ``frame`` ordered by series (as ``ids``), each series' rows kept in order."""
    layout = model.layout_
    if not layout.is_long:
        return frame
    column = (
        frame.index.get_level_values(0) if layout.multiindex else frame[layout.id_col]
    ).to_numpy()
    rank = {sid: i for i, sid in enumerate(ids)}
    key = np.array([rank[sid] for sid in column], dtype=np.int64)
    return frame.iloc[np.argsort(key, kind="stable")]


def _forecast_good(
    model: BaseForecaster,
    check: SeriesCheck,
    future_covariates: Any,
    horizon: int | None,
    again: bool = True,
) -> pd.DataFrame | None:
    """``model.predict`` of ``check.good`` (None: no good series left).

    A series the model refuses to forecast by a fault of its own forecast (a
    :class:`~forecast.NumericalError` with ``series``: a Box-Cox forecast beyond the
    transform's range) joins ``check.bad`` as ``"transform_range"`` and leaves
    ``check.good``; the rest are forecast again, if ``again`` (``on_bad_series="fail"``
    fails anyway: None). Any other error is raised as it is.
    """
    while len(check.good):
        try:
            return model.predict(check.good, future_covariates=future_covariates, horizon=horizon)
        except NumericalError as exc:
            layout = model.layout_
            _, _, _, raw_ids = _split_layout(check.good, layout.id_col, layout.time_col)
            codes, ids = series_codes(raw_ids, len(check.good))
            failed = [code for code, sid in enumerate(ids) if sid in exc.series]
            if not failed:  # not a series' own fault (or none left to blame): not isolated
                raise
            detail = (
                "its forecast left the range of target_transform='boxcox', where the "
                "back-transform is undefined; use target_transform='log' or None"
            )
            rank = {sid: i for i, sid in enumerate(check.ids)}
            present = [b for b in check.bad if b.reason != "absent"]
            present += [BadSeries(ids[code], "transform_range", detail) for code in failed]
            present.sort(key=lambda b: rank[b.id])
            check.bad = present + [b for b in check.bad if b.reason == "absent"]
            check.good = check.good.iloc[np.flatnonzero(~np.isin(codes, failed))]
            if not again:
                break
    return None


def predict_isolated(
    model: BaseForecaster,
    df: pd.DataFrame | None,
    on_bad_series: str,
    max_staleness: int | None,
    expect_ids: Iterable[Any] | None,
    fallback_season: int | None,
    future_covariates: Any,
    horizon: int | None,
) -> pd.DataFrame:
    """``model.predict(df)`` with the bad series isolated (see the module's docstring)."""
    name = type(model).__name__
    if df is None:
        raise InvalidParameterError(
            "on_bad_series, max_staleness, expect_ids and fallback_season check a new "
            f"history: pass it as {name}.predict(df, ...) (the fitted series were checked "
            "at fit)."
        )
    if on_bad_series not in ON_BAD_SERIES:
        raise InvalidParameterError(
            f"The 'on_bad_series' argument of {name}.predict must be one of "
            f"{list(ON_BAD_SERIES)}. Got {on_bad_series!r} instead."
        )
    if max_staleness is not None and (
        isinstance(max_staleness, bool) or not isinstance(max_staleness, int) or max_staleness < 0
    ):
        raise InvalidParameterError(
            f"The 'max_staleness' argument of {name}.predict must be an int >= 0 (periods "
            f"of the model's frequency). Got {max_staleness!r} instead."
        )
    if fallback_season is not None and (
        isinstance(fallback_season, bool)
        or not isinstance(fallback_season, int)
        or fallback_season < 1
    ):
        raise InvalidParameterError(
            f"The 'fallback_season' argument of {name}.predict must be an int >= 1. Got "
            f"{fallback_season!r} instead."
        )
    check = check_series(model, df, max_staleness=max_staleness, expect_ids=expect_ids)
    failing = on_bad_series == "fail"
    frame = None
    if not (failing and check.bad):  # a series' forecast can make it bad too
        frame = _forecast_good(model, check, future_covariates, horizon, again=not failing)
    if failing:
        if check.bad or frame is None:
            raise BadSeriesError(
                f"{_describe(check.bad)}. Fix the data, or pass on_bad_series='skip' "
                "(forecast the others) or 'fallback' (a baseline for these).",
                check.report(on_bad_series),
            )
        frame.attrs["bad_series"] = check.report(on_bad_series)
        return frame
    present = [b for b in check.bad if b.reason != "absent"]
    frames = []
    if frame is not None:
        frames.append(frame.assign(source="model") if on_bad_series == "fallback" else frame)
    done: list[BadSeries] = []
    if on_bad_series == "fallback":
        season = _fallback_season(model, fallback_season)
        _, _, _, raw_ids = _split_layout(df, model.layout_.id_col, model.layout_.time_col)
        for entry in present:
            rows = np.flatnonzero(np.asarray(raw_ids == entry.id)) if raw_ids is not None else None
            part = df if rows is None else df.iloc[rows]
            lag = check.lags[entry.id] if entry.reason == "stale" else 0
            method, values, cutoff, why = _baseline(model, part, season, lag)
            detail = entry.detail + (f"; fallback: {why}" if why else "")
            done.append(BadSeries(entry.id, entry.reason, detail, method))
            if values is None or cutoff is None:
                continue
            steps = model.horizon if horizon is None else horizon
            fb = forecast_frame(
                values[None, :steps],
                pd.DatetimeIndex([cutoff]),
                [entry.id],
                layout=model.layout_,
                freq=model.freq_,
                target_names=model.target_names_,
            )
            frames.append(fb.assign(source=method))
    else:
        done = [BadSeries(b.id, b.reason, b.detail, "skipped") for b in present]
    done += [b for b in check.bad if b.reason == "absent"]
    check.bad = done
    report = check.report(on_bad_series)
    if not frames:
        raise BadSeriesError(
            f"Nothing to forecast: every series is bad; {_describe(done)}.", report
        )
    if check.bad:
        warn(f"{_describe(done)} (on_bad_series={on_bad_series!r}).")
    result = frames[0] if len(frames) == 1 else pd.concat(frames)
    if len(frames) > 1 and not model.layout_.is_long:  # wide: one series, all fallback
        result = frames[-1]
    result = _ordered(result, model, check.ids)
    if model.layout_.is_long and not model.layout_.multiindex:
        result = result.reset_index(drop=True)
    result.attrs["bad_series"] = report
    return result
