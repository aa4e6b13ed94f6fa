"""``forecast score``: stored forecasts against the actuals that arrived later; backtests in
model cards.

::

    forecast score --forecasts yesterday.csv --actuals today.csv --id-col unique_id \\
                   --time-col ds [--target y] [--out scores.csv]
    forecast score --forecasts sqlite:///f.db --forecasts-table forecasts \\
                   --actuals sqlite:///f.db --actuals-table sales --model model.safetensors

The monitoring step of a nightly pipeline. The forecasts are a table as ``forecast
predict`` wrote it (with or without its run metadata columns, which are not scored); the
actuals a table in the training layout. Rows are matched on (id, time); forecasts whose
actual has not arrived yet are left out and counted in the log. Columns (``--id-col``,
``--time-col``, ``--target``) come from ``--model`` when given, else the flags; without
``--target``, every column the two tables share besides those and the metadata is a target.
Each (id, time) must appear once in each table: a table that nightly runs append to holds
every run's forecasts, which overlap when the horizon is over 1; pick one forecast per key
with ``--forecasts-query`` (each key's latest ``created_at``, or one night's
``forecast_origin``: docs/guide/cli.md).
With ``--model``, both tables' series ids are typed as the model's
(:func:`~forecast.cli.sources.typed_ids`, as ``predict`` types its ``--data``); without it,
as their sources hold them (text in CSV).

The output has one row per series and target (``scope = "series"``) and one per target over
all series (``scope = "overall"``, the metrics of all matched rows pooled), with ``n`` (rows
scored) and the metrics of :mod:`forecast.metrics`: ``mae``, ``rmse``, ``smape``, ``mape``
(empty where an actual is 0: it is undefined there) and, for each quantile column
``<target>_q<level>`` the forecasts carry, ``pinball_q<level>``. MASE needs each series'
training history, which a stored forecast does not carry: run ``forecast backtest`` for it.

``forecast backtest --model M`` records its summary in M (the model card's ``backtest``
line): the mean of each metric over windows and series, with the windows' settings and the
time, written back to M atomically (:func:`record_backtest`).
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING, Any

from forecast._exceptions import DataError, UsageError
from forecast.cli.dates import add_timezone_flag, is_iana_zone
from forecast.cli.sinks import REPORT_METADATA, add_output_flags

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_score_command", "record_backtest", "run_score", "score_forecasts"]

logger = logging.getLogger("forecast")

OPTIONS = (
    "forecasts", "actuals", "forecasts_table", "forecasts_query", "actuals_table",
    "actuals_query", "id_col", "time_col", "target", "model", "date_format",
    "timezone", "out",
    "out_table", "metadata",
)  # fmt: skip


def add_score_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """The ``score`` subcommand on the parser's ``commands``."""
    text = "score stored forecasts against actuals that arrived later"
    score = commands.add_parser(
        "score", parents=[common], help=text, description=text, allow_abbrev=False
    )
    score.set_defaults(run=run_score, config=None, config_data=None)
    s = argparse.SUPPRESS
    score.add_argument("--forecasts", default=s, help="forecasts as forecast predict wrote them")
    score.add_argument("--actuals", default=s, help="actual values, in the training layout")
    for name in ("forecasts", "actuals"):
        score.add_argument(f"--{name}-table", default=s, help=f"table of --{name} (a database)")
        score.add_argument(f"--{name}-query", default=s, help=f"query for --{name} (a database)")
    score.add_argument("--model", default=s, help="model file: id, time and target columns")
    score.add_argument("--id-col", default=s, help="series id column (long tables)")
    score.add_argument("--time-col", default=s, help="time column (default: the first column)")
    score.add_argument("--target", default=s, help="columns to score, comma-separated")
    score.add_argument("--date-format", default=s, help="strptime format of CSV dates")
    add_timezone_flag(score)
    score.add_argument("--out", default=s, help="scores file, or - (default)")
    add_output_flags(score, "scores", REPORT_METADATA)


def _get(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, None)


def run_score(args: argparse.Namespace) -> int:
    from forecast.cli.sinks import (
        METADATA_COLUMNS,
        check_out,
        check_sink,
        run_metadata,
        with_run_columns,
        write_output,
    )
    from forecast.cli.sources import read_source

    forecasts_spec, actuals_spec = _get(args, "forecasts"), _get(args, "actuals")
    missing = [f"--{n}" for n, v in (("forecasts", forecasts_spec), ("actuals", actuals_spec))]
    missing = [m for m, v in zip(missing, (forecasts_spec, actuals_spec), strict=True) if v is None]
    if missing:
        raise UsageError(f"forecast score needs {' and '.join(missing)}.")
    out, out_table = _get(args, "out"), _get(args, "out_table")
    out = "-" if out is None else out
    check_sink(out, out_table)
    check_out(out, inputs=(forecasts_spec, actuals_spec))
    id_col, time_col, targets, zone, series_ids = _columns(args)
    kwargs: dict[str, Any] = {
        "date_format": _get(args, "date_format"),
        "timezone": _get(args, "timezone"),
        "model_zone": zone,  # a tz-aware model's forecasts, as predict wrote them to CSV
    }
    # Both tables' ids typed as the model's, as predict types its --data: forecasts kept as
    # CSV (text '1') then match actuals in Parquet (integer 1).
    ids: dict[str, Any] = {"id_col": id_col, "series_ids": series_ids}
    if time_col is None:  # a wide table: the timestamps are its index or first column
        forecasts = read_source(forecasts_spec, **kwargs, **_db(args, "forecasts"))
        if not _plain_index(forecasts):  # Parquet keeps the time index predict wrote
            forecasts = forecasts.reset_index()
        time_col = str(forecasts.columns[0])
        forecasts = _parsed(forecasts, time_col, forecasts_spec, **kwargs)
        columns: dict[str, Any] = {"time_index": time_col}  # a column, or the index already
    else:
        forecasts = read_source(
            forecasts_spec, time_col=time_col, role="forecasts", **kwargs,
            **_db(args, "forecasts"), **ids,
        )  # fmt: skip
        columns = {"time_col": time_col}
    actuals = read_source(
        actuals_spec, **columns, role="actuals", **kwargs, **_db(args, "actuals"), **ids
    )
    forecasts = forecasts.drop(columns=[c for c in METADATA_COLUMNS if c in forecasts.columns])
    scores, n_pending = score_forecasts(forecasts, actuals, id_col, time_col, targets)
    written = scores
    if _get(args, "metadata") is not False:
        written = with_run_columns(scores, run_metadata())
    where = write_output(written, out, out_table)
    logger.info("wrote %d score rows to %s", len(written), where)
    overall = scores[scores["scope"] == "overall"]
    logger.info(
        "scored %d forecast rows of %d series against the actuals (%d not yet known); overall: %s",
        int(overall["n"].sum()),
        int((scores["scope"] == "series").sum() / max(len(overall), 1)),
        n_pending,
        "; ".join(
            f"{row.target}: mae {row.mae:.4g}, smape {row.smape:.4g}"
            for row in overall.itertuples()
        ),
        extra={
            "fields": {
                "event": "score",
                "n_rows": int(overall["n"].sum()),
                "n_pending": n_pending,
                "output": where,
                "overall": overall.drop(columns=["scope", id_col or "series"]).to_dict(
                    orient="records"
                ),
            }
        },
    )
    return 0


def _db(args: argparse.Namespace, name: str) -> dict[str, Any]:
    return {"table": _get(args, f"{name}_table"), "query": _get(args, f"{name}_query")}


def _plain_index(frame: pd.DataFrame) -> bool:
    """Whether ``frame``'s index is a plain row number, not data (a wide Parquet's times)."""
    import pandas as pd

    return isinstance(frame.index, pd.RangeIndex) and frame.index.name is None


def _parsed(frame: pd.DataFrame, col: str, where: Any, **dates: Any) -> pd.DataFrame:
    from forecast.cli.dates import parse_dates

    frame[col] = parse_dates(frame[col], col, f"forecasts '{where}'", **dates)
    return frame


def _columns(
    args: argparse.Namespace,
) -> tuple[str | None, str | None, list[str] | None, str | None, list[Any] | None]:
    """id, time and target columns, the data's time zone and the model's series ids: from
    ``--model``, else the flags (no zone, no ids: ids are read as their sources hold them)."""
    target = _get(args, "target")
    targets = None if target is None else [t.strip() for t in str(target).split(",")]
    path = _get(args, "model")
    if path is None:
        return _get(args, "id_col"), _get(args, "time_col"), targets, None, None
    from forecast.io.card import ModelCard
    from forecast.io.model_file import read

    card = ModelCard.from_document(*read(path))
    time_col = card.time_col
    if time_col is None and card.id_col is None:
        time_col = None  # wide: the time index is the first column of the files
    zone = card.tz if card.tz is not None and is_iana_zone(card.tz) else None  # as zone_of
    ids = list(card.series_ids) if card.id_col is not None else None
    return card.id_col, time_col, targets or [str(t) for t in card.targets], zone, ids


def score_forecasts(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    id_col: str | None,
    time_col: str,
    targets: list[str] | None,
) -> tuple[pd.DataFrame, int]:
    """Per series and overall scores of the forecasts whose actuals are known.

    Returns
    -------
    scores : pandas.DataFrame
        ``scope, series, target, n, mae, rmse, smape, mape[, pinball_q<level>...]``.
    n_pending : int
        Forecast rows without an actual yet.

    Raises
    ------
    DataError
        A key or target column missing from either table, duplicate keys, or no forecast
        row that has an actual.
    """
    import numpy as np
    import pandas as pd

    from forecast.data.output import quantile_columns
    from forecast.evaluation import metrics

    keys = [time_col] if id_col is None else [id_col, time_col]
    if id_col is None and time_col not in actuals.columns and actuals.index.name == time_col:
        actuals = actuals.reset_index()
    for name, frame in (("forecasts", forecasts), ("actuals", actuals)):
        absent = [k for k in keys if k not in frame.columns]
        if absent:
            raise DataError(
                f"The {name} have no column(s) {absent} to match rows on. Columns: "
                f"{list(frame.columns)}. Give the right --id-col/--time-col, or --model."
            )
    if targets is None:
        targets = [c for c in forecasts.columns if c not in keys and c in actuals.columns]
        # A column that is a quantile of another target is that target's ("y_q0.1"); one
        # that only looks like one ("sales_qty") is a target.
        targets = [t for t in targets if not any(t in quantile_columns(targets, o).values()
                                                 for o in targets)]  # fmt: skip
        if not targets:
            raise DataError(
                f"The forecasts and the actuals share no column to score besides {keys}; "
                "name it with --target."
            )
    for name, frame in (("forecasts", forecasts), ("actuals", actuals)):
        absent = [t for t in targets if t not in frame.columns]
        if absent:
            raise DataError(
                f"The {name} have no target column(s) {absent}. Columns: {list(frame.columns)}."
            )
    for name, frame in (("forecasts", forecasts), ("actuals", actuals)):
        dup = frame.duplicated(keys)
        if dup.any():
            first = frame.loc[dup, keys].iloc[0].tolist()
            raise DataError(
                f"The {name} hold {int(dup.sum())} duplicate row(s) for {keys}, the first "
                f"{first}; keep one row per series and timestamp."
            )
    _check_key_types(forecasts, actuals, keys)
    quantile_cols = {t: quantile_columns(forecasts.columns, t) for t in targets}
    right = actuals[keys + targets].rename(columns={t: f"{t}__actual" for t in targets})
    merged = forecasts.merge(right, on=keys, how="left", validate="one_to_one")
    known = merged[[f"{t}__actual" for t in targets]].notna().all(axis=1)
    n_pending = int((~known).sum())
    merged = merged[known]
    if merged.empty:
        span = f"{forecasts[time_col].min()} to {forecasts[time_col].max()}"
        have = f"{actuals[time_col].min()} to {actuals[time_col].max()}"
        raise DataError(
            f"No forecast row has an actual: the forecasts span {span}, the actuals {have}"
            f"{' (or their series differ)' if id_col else ''}. Score once the actuals of the "
            "forecast dates have arrived."
        )
    _refuse_non_finite(merged, targets, quantile_cols, keys)
    rows = []
    groups: list[tuple[Any, pd.DataFrame]] = (
        list(merged.groupby(id_col, sort=True)) if id_col is not None else [(None, merged)]
    )
    for scope, parts in (("series", groups), ("overall", [(None, merged)])):
        for series, part in parts:
            for t in targets:
                y = part[f"{t}__actual"].to_numpy(dtype=float)
                f = part[t].to_numpy(dtype=float)
                row: dict[str, Any] = {
                    "scope": scope,
                    "series": series,
                    "target": t,
                    "n": len(y),
                    "mae": float(metrics.mae(y, f)),
                    "rmse": float(metrics.rmse(y, f)),
                    "smape": float(metrics.smape(y, f)),
                    "mape": float(metrics.mape(y, f)) if np.all(y != 0) else np.nan,
                }
                for level, c in quantile_cols[t].items():
                    q = part[c].to_numpy(dtype=float)
                    row[f"pinball_q{level:g}"] = float(metrics.pinball_loss(y, q, level))
                rows.append(row)
    scores = pd.DataFrame(rows)
    # Ids as they are: beside the overall row's missing id, integer ids became floats (1.0).
    scores["series"] = pd.Series([row["series"] for row in rows], dtype=object)
    if id_col is not None:
        scores = scores.rename(columns={"series": id_col})
    return scores, n_pending


def _key_kind(column: pd.Series) -> str:
    import pandas as pd

    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return f"timestamps in {column.dtype.tz}"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "timestamps without a time zone"
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return "numbers"
    if pd.api.types.is_string_dtype(column):
        return "text"
    return str(column.dtype)


def _check_key_types(forecasts: pd.DataFrame, actuals: pd.DataFrame, keys: list[str]) -> None:
    """Refuse key columns of different kinds, which pandas' merge refuses with its own
    ValueError (exit 1): the column, both kinds and the fix."""
    for key in keys:
        left, right = _key_kind(forecasts[key]), _key_kind(actuals[key])
        if left == right:
            continue
        if "timestamps" in left and "timestamps" in right:
            if left.startswith("timestamps in") and right.startswith("timestamps in"):
                continue  # two zones: the same instants, which the merge compares
            fix = (
                "read both in one zone with --timezone ZONE (naive timestamps are then that "
                "zone's wall times; those with a UTC offset are converted to it)"
            )
        elif {left, right} == {"numbers", "text"}:
            # CSV ids are read as text, Parquet and databases keep theirs: the usual cause
            fix = (
                "ids in CSV are read as text, in Parquet or a database as stored; give "
                "--model M to type both tables' ids as the model's, or store the ids with "
                "the same type in both"
            )
        else:
            fix = "write the column with the same type in both tables"
        raise DataError(
            f"Column {key!r} holds {left} in the forecasts and {right} in the actuals, so no "
            f"row would match: {fix}."
        )


def _refuse_non_finite(
    merged: pd.DataFrame,
    targets: list[str],
    quantile_cols: dict[str, dict[float, str]],
    keys: list[str],
) -> None:
    """A NaN or infinite forecast or actual among the rows scored is named by its keys."""
    import numpy as np
    import pandas as pd

    for t in targets:
        columns = {t: "forecasts", f"{t}__actual": "actuals"}
        columns.update({c: "forecasts" for c in quantile_cols[t].values()})
        for column, table in columns.items():
            values = pd.to_numeric(merged[column], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(values)
            if bad.any():
                first = merged.loc[bad, keys].iloc[0].tolist()
                name = column.removesuffix("__actual")
                raise DataError(
                    f"The {table} hold {int(bad.sum())} NaN, infinite or non-numeric value(s) "
                    f"in column {name!r} for rows that are scored, the first at {keys} = "
                    f"{first}. A forecast must be a number to be scored: check the run that "
                    "wrote it."
                )


def record_backtest(
    path: str | os.PathLike[str],
    summary: pd.DataFrame,
    metrics_table: pd.DataFrame,
    options: dict[str, Any],
) -> None:
    """Write a backtest's summary into the model file at ``path`` (``backtest_``), atomically.

    What is recorded: each metric's mean over windows and series (``<metric>`` for one
    target, ``<target>.<metric>`` for several), ``windows`` (how many origins), the options
    given (``step``, ``refit``, ``window``), and ``created_at`` (UTC). The model's weights
    are untouched: it is loaded, the attribute set, and saved again to the same path.
    """
    from forecast.cli.sinks import utc_now
    from forecast.forecasters.builtin import load, save

    model = load(path)
    record: dict[str, Any] = {}
    several = len(summary.index) > 1
    for target, values in summary.iterrows():
        for metric, value in values.items():
            record[f"{target}.{metric}" if several else str(metric)] = float(value)
    record["windows"] = int(metrics_table["window"].nunique())
    for key in ("step", "refit", "window"):
        if key in options:
            record[key] = options[key]
    record["created_at"] = utc_now()
    model.backtest_ = record
    save(model, path)
