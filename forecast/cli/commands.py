"""The commands of the command line (``fit``, ``predict``, ``backtest``, ``info``, ``demo``).

Each takes the parsed arguments (:mod:`forecast.cli.main` builds the parser) and returns an exit
code; errors propagate to :func:`forecast.cli.main.main`, which maps them to exit codes. Options
come from flags, else from the command's table of the ``--config`` file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from forecast._exceptions import DataError, ForecastError, UsageError
from forecast.cli import bad_series, parts, training
from forecast.cli import engines as cli_engines

if TYPE_CHECKING:  # imported by the commands that use them: info and --help need neither
    from forecast.forecasters.base import BaseForecaster

__all__ = [
    "OPTIONS",
    "check_config_options",
    "run_backtest",
    "run_demo_command",
    "run_fit",
    "run_info",
    "run_predict",
]

logger = logging.getLogger("forecast")

SOURCE_OPTIONS = ("table", "query", "date_format", "timezone")  # forecast.cli.sources
OPTIONS = {  # what each command reads from its table of a config file
    "fit": ("data", "out", *SOURCE_OPTIONS, *training.OPTIONS),
    "predict": ("model", "data", "out", "horizon", "estimator", *SOURCE_OPTIONS,
                "out_table", "metadata", "future_data", "future_table", "future_query",
                *bad_series.OPTIONS, *cli_engines.ENGINE_OPTIONS),
    "backtest": ("data", "out", "windows", "step", "window", "refit", *SOURCE_OPTIONS,
                 "model", "out_table", "metadata", *bad_series.BACKTEST_OPTIONS),
}  # fmt: skip


# ------------------------------------------------------------------------------ helpers


def _option(args: argparse.Namespace, name: str, *, required: bool = False) -> Any:
    """A command option: the flag, else the command's table of the config, else None."""
    if hasattr(args, name):
        return getattr(args, name)
    config = args.config_data or {}
    if name in config.get(args.command, {}):
        return config[args.command][name]
    if required:
        where = f" (or {name} = ... in [{args.command}] of {args.config})" if args.config else ""
        raise UsageError(f"forecast {args.command} needs --{name}{where}.")
    return None


def check_config_options(args: argparse.Namespace) -> None:
    table = (args.config_data or {}).get(args.command, {})
    allowed = OPTIONS.get(args.command, ())
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise UsageError(
            f"Config file '{args.config}': {unknown} in [{args.command}] are not options of "
            f"forecast {args.command} ({', '.join(allowed)})."
        )


def _estimator(args: argparse.Namespace, lengths: Any = None) -> BaseForecaster:
    """The estimator built from the [model] table of the config, overridden by flags.

    With ``--ensemble N`` (``ensemble = N`` in [model]), an :class:`EnsembleForecaster` of N
    such estimators. With ``--partner KIND`` (``partner`` in [model]), that estimator
    combined with a statistical model (:func:`forecast.presets.statistical_partner`) at
    ``--partner-weight`` (default 0.5); ``--partner none`` for no partner.

    With ``--preset panel`` (``preset`` in [model]; :mod:`forecast.cli.preset`), the
    parameters not given are :func:`forecast.presets.panel_params`' for the series'
    ``lengths``, and the partner is :func:`forecast.presets.panel_partner`'s (Theta, or
    without a season the optimised Theta, the damped trend and ETS) unless ``--partner``
    says otherwise: the model :func:`forecast.presets.panel_forecaster` builds.
    """
    from forecast.cli.params import coerce_param

    cls, names = args.estimator_class, set(args.estimator_params)
    table = dict((args.config_data or {}).get("model", {}))
    table.pop("estimator", None)
    n_members = getattr(args, "ensemble", table.pop("ensemble", None))
    partner = getattr(args, "partner", table.pop("partner", None))
    partner_weight = getattr(args, "partner_weight", table.pop("partner_weight", None))
    preset = _preset(args, table)
    if n_members is not None and (
        isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 1
    ):
        raise UsageError(
            f"--ensemble (ensemble in [model]) must be an int >= 1, the number of models "
            f"fitted with different seeds. Got {n_members!r} instead."
        )
    unknown = sorted(set(table) - names)
    if unknown:
        raise UsageError(
            f"Config file '{args.config}': {unknown} in [model] are not parameters of "
            f"{cls.__name__} ({', '.join(sorted(names))})."
        )
    params = {k: coerce_param(k, v) for k, v in table.items()}
    params.update({k[len("param.") :]: v for k, v in vars(args).items() if k.startswith("param.")})
    if preset is not None:
        from forecast.cli.preset import preset_params

        params = preset_params(str(preset), cls, params, lengths)
        from forecast.forecasters.presets import panel_partner

        season = int(params["season_length"])  # preset_params refuses a preset without it
        partner = panel_partner(season) if partner is None else partner
    if partner == "none":
        if partner_weight is not None:
            raise UsageError(
                "--partner-weight (partner_weight in [model]) weighs a partner, and --partner "
                "none asks for none: leave one of them out."
            )
        partner = None
    if "progress_bar" in names and "progress_bar" not in params:
        params["progress_bar"] = sys.stderr.isatty() and not getattr(args, "quiet", False)
    estimator = cls(**params)
    if n_members is not None:
        from forecast.forecasters.ensemble import EnsembleForecaster

        estimator = EnsembleForecaster(estimator, n_members=n_members)
    if partner is None:
        if partner_weight is not None:
            raise UsageError("--partner-weight (partner_weight in [model]) needs --partner.")
        return estimator
    return _with_partner(estimator, str(partner), partner_weight)


def _preset(args: argparse.Namespace, table: dict[str, Any] | None = None) -> Any:
    """``--preset`` or ``preset`` in [model] (popped from ``table`` when given), or None."""
    if table is None:
        table = dict((args.config_data or {}).get("model", {}))
    return getattr(args, "preset", table.pop("preset", None))


def _for_data(
    model: BaseForecaster, args: argparse.Namespace, df: Any, backtest: dict[str, Any] | None = None
) -> BaseForecaster:
    """``model`` rebuilt for the series of ``df`` when a preset derives settings from them.

    For a ``backtest`` (its options), the lengths are the training parts' at the oldest
    cutoff, so that the preset's input length lets every series be forecast at every cutoff.
    """
    preset = _preset(args)
    if preset is None:
        return model
    from forecast.cli.preset import series_lengths

    lengths = series_lengths(df, getattr(model, "id_col", None))
    if backtest is not None:
        horizon = int(model.horizon)
        step, n_windows = backtest.get("step") or horizon, backtest.get("n_windows", 1)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (step, n_windows)):
            # (Other values are the backtest's to refuse, with its message.) A series with
            # nothing before the oldest cutoff is refused or left out by the backtest
            # (--on-bad-series skip): it must not cap the others' input length.
            held_out = horizon + (n_windows - 1) * step
            kept = lengths[lengths > held_out] - held_out
            lengths = kept if len(kept) else lengths
    model = _estimator(args, lengths)
    logger.info("--preset %s for %d series: %s", preset, len(lengths), _network(model))
    return model


def _network(model: BaseForecaster) -> str:
    """The preset network's input length and budget, for the log."""
    network = getattr(model, "forecaster", model)
    network = getattr(network, "estimator", network)  # an ensemble's base
    steps = (network.get_params().get("trainer_kwargs") or {}).get("max_steps")
    return f"seq_len {network.get_params().get('seq_len')}, max_steps {steps}"


def _with_partner(estimator: BaseForecaster, kind: str, weight: Any) -> BaseForecaster:
    """``estimator`` combined with the statistical model ``kind`` at ``weight``."""
    from forecast.forecasters.combined import CombinedForecaster
    from forecast.forecasters.presets import PARTNERS, statistical_partner

    if kind not in PARTNERS:
        raise UsageError(
            f"--partner (partner in [model]) is one of {', '.join(PARTNERS)}; got {kind!r}."
        )
    season = getattr(estimator, "season_length", None)
    if season is None and hasattr(estimator, "estimator"):  # an ensemble: its base's
        season = getattr(estimator.estimator, "season_length", None)
    if season is None:
        raise UsageError(
            f"--partner {kind} fits a statistical model per series, which needs the season: "
            "add --season-length (season_length in [model]; 12 for monthly data, 4 "
            "quarterly, 1 for none)."
        )
    partner = statistical_partner(estimator, kind, season)
    return CombinedForecaster(estimator, partner, partner_weight=0.5 if weight is None else weight)


@contextlib.contextmanager
def _about(path: Any) -> Iterator[None]:
    """Prefix our errors with the data file they concern."""
    try:
        yield
    except ForecastError as exc:
        if path is None:
            raise
        raise type(exc)(f"{path}: {exc}") from exc


def _read_data(
    args: argparse.Namespace,
    data: Any,
    *,
    time_col: str | None,
    time_index: Any = None,
    prefix: str = "",
    role: str = "data",
    model_zone: str | None = None,
    model: BaseForecaster | None = None,
    refit: bool = False,
) -> Any:
    """``--data`` (or ``--future-data`` with ``prefix="future_"``) from wherever it lives;
    dates in ``--timezone``, else timestamps with UTC offsets in ``model_zone``; series ids
    as ``model`` reads them (:func:`~forecast.cli.sources.id_options`).

    ``refit``: ``model`` (fitted: a warm start) is fitted again on the data, which may add
    series; their ids are typed as the model's where all of them can be, else left as read.

    For an unfitted ``model`` given no column arguments, the time column is Nixtla's ``ds``
    when the data has ``unique_id, ds, y`` (:func:`forecast.data.conventions.default_columns`),
    so that ``--date-format`` and ``--timezone`` apply to it as they would to ``--time-col``.
    """
    from forecast.cli.sources import id_options, read_source, typed_ids

    options = id_options(model)
    fitted_ids = options.pop("series_ids", None) if refit else None
    frame = read_source(
        data,
        time_col=time_col,
        time_index=time_index,
        date_format=_option(args, "date_format"),
        timezone=_option(args, "timezone"),
        model_zone=model_zone,
        table=_option(args, f"{prefix}table"),
        query=_option(args, f"{prefix}query"),
        role=role,
        convention=model is not None and model.id_col is None and model.time_col is None,
        **options,
    )
    id_col = options.get("id_col")
    if fitted_ids and isinstance(id_col, str) and id_col in frame.columns:
        # old series keep their ids; where a new one is not of their kind, all stay as read
        with contextlib.suppress(DataError):
            frame[id_col] = typed_ids(frame[id_col], fitted_ids, id_col, role)
    return frame


def _check_out(path: Any, *, table: bool = True, inputs: tuple[Any, ...] = ()) -> None:
    """Refuse an output that cannot be written, or that is one of the run's ``inputs``,
    before any work (:func:`forecast.cli.sinks.check_out`)."""
    from forecast.cli.sinks import check_out

    check_out(path, table=table, inputs=inputs)


def _out(args: argparse.Namespace) -> Any:
    """``--out``, ``-`` (standard output) when not given; an empty one is refused later."""
    out = _option(args, "out")
    return "-" if out is None else out


# ------------------------------------------------------------------------------ commands


def run_fit(args: argparse.Namespace) -> int:
    from forecast.forecasters.builtin import save

    init, folder = _option(args, "init_from"), _option(args, "checkpoint_dir")
    preset = _preset(args)
    if init is not None and preset is not None:
        raise UsageError(
            "--preset (preset in [model]) builds a new model's settings, and --init-from "
            "continues a saved model with its own: leave out one of them."
        )
    model = training.init_from(_estimator(args), init, args)
    data, out = _option(args, "data", required=True), _option(args, "out", required=True)
    _check_out(out, table=False, inputs=(data,))  # before training, not after
    if parts.wants_parts(model, data):  # each DDP rank reads its own parts (cli/parts.py)
        if preset is not None:  # the parts are read rank by rank, during the fit
            logger.info("--preset %s on parts: seq_len not capped by the series' lengths", preset)
        if parts.fit_parts(model, data, out, folder, init):
            save(model, out)
        return 0
    df = _read_data(
        args, data, time_col=model.time_col, model=model, refit=True
    )  # ensemble: base's
    model = _for_data(model, args, df)  # a preset's settings for df's series
    df = _with_calendar(model, df)
    start = time.perf_counter()
    with _about(data), training.checkpointed(folder, model, df, init):
        model.fit(df)
    logger.info(
        "fitted %s on %d series, %d rows, in %.1f s",
        type(model).__name__,
        len(model.series_ids_),
        len(df),
        time.perf_counter() - start,
    )
    save(model, out)
    logger.info("wrote %s (%s bytes)", out, f"{os.path.getsize(out):,}")
    return 0


def _with_calendar(model: BaseForecaster, df: Any) -> Any:
    """``df`` with the calendar features named in ``future_covariates`` that it lacks."""
    from forecast.cli.calendar import add_calendar_columns, calendar_names

    params = model.get_params()
    asked = params.get("future_covariates", params.get("estimator__future_covariates"))
    names = calendar_names([asked] if isinstance(asked, str) else asked)
    with _about(None):
        return add_calendar_columns(df, [n for n in names if n not in df.columns], model.time_col)


def run_predict(args: argparse.Namespace) -> int:
    from forecast.cli.sinks import check_sink, write_output
    from forecast.forecasters.builtin import load

    if _option(args, "engine") is not None:  # Spark or Dask (cli/engines.py)
        return cli_engines.run_predict(args, lambda name, **kw: _option(args, name, **kw))
    path, data = _option(args, "model", required=True), _option(args, "data")
    out, horizon = _out(args), _option(args, "horizon")
    out_table = _option(args, "out_table")
    check_sink(out, out_table)
    _check_out(out, inputs=(path, data, _option(args, "future_data")))
    bad_series.check_report(_option(args, "report"))
    own = _option(args, "estimator")
    if own is not None:  # defines the class the file names (forecast.io.registry)
        from forecast.cli.params import resolve_cli_estimator

        resolve_cli_estimator(own)
    start = time.perf_counter()
    model = load(path)
    df = None
    time_col = model.layout_.time_col
    time_index = None if time_col else model.layout_.time_name
    if data is not None:
        df = _read_data(
            args, data, time_col=time_col, time_index=time_index, model_zone=zone_of(model),
            model=model,
        )  # fmt: skip
    df, future = _future_data(args, model, df, time_col, time_index)
    isolation = {name: _option(args, name) for name in bad_series.OPTIONS}
    with _about(data):
        forecast, report = bad_series.predict(model, df, isolation, horizon, future)
    with report.written():  # after the output, with the run's exit status
        if _option(args, "metadata") is not False:
            from forecast.cli.sinks import origins, run_metadata, with_metadata

            forecast = with_metadata(
                forecast, origins(model, df), run_metadata(path), id_col=model.layout_.id_col
            )
        where = write_output(forecast, out, out_table)
    logger.info(
        "wrote %d forecast rows to %s",
        len(forecast),
        where,
        extra={
            "fields": {
                "event": "predict",
                "n_series": int(forecast[model.layout_.id_col].nunique())
                if model.layout_.id_col
                else 1,
                "n_rows": len(forecast),
                "output": where,
                "seconds": round(time.perf_counter() - start, 3),
            }
        },
    )
    return report.status


def _future_data(
    args: argparse.Namespace, model: BaseForecaster, df: Any, time_col: str | None, time_index: Any
) -> tuple[Any, Any]:
    """The history and the known-future covariates over the horizon, if the model has any:
    ``--future-data``, else computed when they are all calendar features."""
    from forecast.cli.calendar import add_calendar_columns, calendar_names

    future_path = _option(args, "future_data")
    names = list(model.future_names_ or [])
    if future_path is None:
        if names and calendar_names(names) == names:  # computed (forecast.cli.calendar)
            import pandas as pd

            from forecast.cli.sinks import origins
            from forecast.forecasters._future_frame import future_frame

            if df is not None:
                df = add_calendar_columns(df, names, time_col, check=True)
            last = origins(model, df)  # from the rows as given: bad series may be among them
            ids = list(last.index) if model.layout_.id_col else list(model.series_ids_)
            return df, future_frame(model, ids, pd.DatetimeIndex(list(last)), names)
        if names:
            raise UsageError(
                f"This model was trained with known-future covariates {names}: give their "
                "values over the forecast horizon with --future-data PATH (same layout as "
                "--data: id and time columns, or the time index, and those columns)."
            )
        return df, None
    if not names:
        raise UsageError(
            "--future-data gives known-future covariates, but this model was trained "
            "without any; leave the flag out."
        )
    with _about(future_path):
        return df, _read_data(
            args, future_path, time_col=time_col, time_index=time_index,
            prefix="future_", role="future data", model_zone=zone_of(model), model=model,
        )  # fmt: skip


def run_backtest(args: argparse.Namespace) -> int:
    from forecast.cli.sinks import check_sink, run_metadata, with_run_columns, write_output
    from forecast.evaluation.backtest import backtest

    model_path = _option(args, "model")
    model, zone = (
        (_estimator(args), None) if model_path is None else _saved_estimator(args, model_path)
    )
    data, out = _option(args, "data", required=True), _out(args)
    out_table = _option(args, "out_table")
    check_sink(out, out_table)
    _check_out(out, inputs=(data, model_path))
    bad_series.check_report(_option(args, "report"))
    df = _read_data(args, data, time_col=model.time_col, model_zone=zone, model=model)
    df = _with_calendar(model, df)
    options = {
        key: value
        for key, value in (
            ("n_windows", _option(args, "windows")),
            ("step", _option(args, "step")),
            ("refit", _option(args, "refit")),
            ("window", _option(args, "window")),
        )
        if value is not None
    }
    if model_path is None:
        model = _for_data(model, args, df, backtest=options)
    start = time.perf_counter()
    isolation = {name: _option(args, name) for name in bad_series.BACKTEST_OPTIONS}
    with _about(data):
        result, report = bad_series.backtest(
            lambda mode: backtest(model, df, **options, on_bad_series=mode), isolation
        )
    metrics, summary = result.metrics, result.summary()
    with report.written():  # after the outputs, with the run's exit status
        if _option(args, "metadata") is not False:
            metrics = with_run_columns(metrics, run_metadata())
        where = write_output(metrics, out, out_table)
        if model_path is not None:
            from forecast.cli.score import record_backtest

            record_backtest(model_path, summary, result.metrics, options)
    logger.info("wrote %d metric rows to %s", len(metrics), where)
    logger.info(
        "backtest summary:\n%s",
        summary.to_string(),
        extra={
            "fields": {
                "event": "backtest",
                "n_windows": int(result.metrics["window"].nunique()),
                "seconds": round(time.perf_counter() - start, 3),
                "summary": summary.reset_index().to_dict(orient="records"),
            }
        },
    )
    if model_path is not None:
        logger.info("recorded the backtest in %s", model_path)
    return report.status


def zone_of(model: BaseForecaster) -> str | None:
    """A fitted model's IANA time zone, if its data had one; a fixed offset is none (a
    winter-only CSV's +01:00 would shift summer hours, where a refusal names --timezone)."""
    cutoffs = model.__dict__.get("cutoffs_")
    tz = None if cutoffs is None else cutoffs.tz
    return getattr(tz, "key", None) or getattr(tz, "zone", None)


def _saved_estimator(args: argparse.Namespace, path: Any) -> tuple[BaseForecaster, str | None]:
    """``backtest --model M``: an unfitted copy of the model in M, with its parameters, and
    the zone of the data it was fitted on (:func:`zone_of`)."""
    from sklearn.base import clone

    from forecast.forecasters.builtin import load

    given = sorted(k[len("param.") :] for k in vars(args) if k.startswith("param."))
    options = ("ensemble", "preset", "partner", "partner_weight")
    flags = [f"--{name.replace('_', '-')}" for name in options if hasattr(args, name)]
    if given or (args.config_data or {}).get("model") or flags:
        raise UsageError(
            f"backtest --model takes the estimator and its parameters from {path}; leave out "
            "the estimator flags "
            f"({', '.join(given + flags) or '[model] of the config'})."
        )
    saved = load(path)
    return cast("BaseForecaster", clone(saved)), zone_of(saved)


def run_info(args: argparse.Namespace) -> int:
    from forecast.io.card import ModelCard
    from forecast.io.model_file import read  # not persistence: info imports no pandas

    document, arrays = read(args.model)
    card = ModelCard.from_document(document, arrays, path=args.model)
    print(json.dumps(card.to_dict(), indent=2) if args.json else card)
    return 0


def run_demo_command(args: argparse.Namespace) -> int:
    from forecast.cli.demo import QUICK, run_demo

    settings: dict[str, Any] = dict(QUICK) if args.quick else {}
    if args.max_epochs is not None:
        settings["max_epochs"] = args.max_epochs
    result = run_demo(
        args.out_dir,
        progress_bar=sys.stderr.isatty() and not getattr(args, "quiet", False),
        **settings,
    )
    if args.quick:
        print("Quick mode (--quick): a smoke run, not a result; run without it for one.")
    print(
        f"Backtest of MSFT over {result.n_windows} cutoffs, 5 trading days apart; mean "
        f"absolute error of the next 5 trading days, USD:\n"
        f"  LSTM   {result.model_mae:8.3f}  (fitted once, at the oldest cutoff)\n"
        f"  naive  {result.naive_mae:8.3f}  (last value repeated)\n"
        f"Forecast of the next 5 trading days:\n{result.forecast.round(2).to_string()}\n"
        f"Wrote {result.csv_path} and {result.png_path}"
    )
    return 0
