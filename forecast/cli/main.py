"""The ``forecast`` command line for scheduled jobs. A thin layer: parse, call, map errors.

::

    forecast fit      --data prices.csv --time-col date --target close --cell lstm \\
                      --seq-len 60 --horizon 5 --freq B --out model.safetensors
    forecast predict  --model model.safetensors --data latest.parquet --out forecast.csv
    forecast backtest --model-config job.toml --data prices.csv --windows 4 --out metrics.csv
    forecast fit      --config job.toml --estimator lstm --ensemble 5
    forecast fit      --preset panel --season-length 12 --horizon 18 --data sales.csv --out m
    forecast score    --forecasts fc.csv --actuals today.csv --model model.safetensors
    forecast info     model.safetensors [--json]
    forecast demo

* Every estimator parameter is a flag made from the estimator's signature (``--seq-len``,
  ``--trainer-kwargs '{"accelerator": "cpu"}'``), and can sit in the ``[model]`` table of a
  TOML file given with ``--config`` (``--model-config`` is the same); flags override it. See
  :mod:`forecast.cli.params`. ``--ensemble N`` (``ensemble = N`` in ``[model]``) fits N
  such models with consecutive seeds and saves them as one
  :class:`~forecast.EnsembleForecaster` (their median forecast). ``--preset panel`` builds
  the model :func:`forecast.presets.panel_forecaster` recommends for many short series,
  its settings derived from the data's series (:mod:`forecast.cli.preset`).
* CSV or Parquet in and out by extension; outputs are written atomically; ``--out -``
  writes CSV to standard output. See :mod:`forecast.cli.tables`. ``--data`` may also be a
  folder of parts, a glob, ``-`` or a database (:mod:`forecast.cli.sources`); ``predict``
  appends to a database table and adds the run's metadata (:mod:`forecast.cli.sinks`).
* Logs: text with UTC timestamps or JSON lines, to stderr or a file
  (:mod:`forecast.cli.logs`).
* Exit codes: 0 success; 2 bad usage or bad input (a missing file, an unknown column, an
  irregular timestamp, a damaged model), with one line ``forecast: error: TypeName:
  message`` on stderr and no traceback unless ``--verbose``; 1 anything else (a bug, a full
  disk); 130 on Ctrl-C (SIGINT, ``forecast: interrupted``) and 143 on SIGTERM (``forecast:
  terminated``), at any point: training stops, nothing is written, a previous output at
  ``--out`` is left as it was, and no temporary file is left behind. Logs go to stderr
  (``--quiet`` keeps warnings and errors only); stdout carries only the
  output asked for. No progress bar unless stderr is a terminal. Never prompts.

**argparse**, not click or typer: it is in the standard library (nothing more for a
scheduled job to install and pin), it does subcommands and flags built at run time from a
signature, and it starts fast. torch and Lightning (about 6 s to import) are imported only
by the commands that train or run a network: ``forecast --help`` and ``forecast info`` never
import them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from forecast._exceptions import Terminated, UsageError
from forecast.cli import bad_series, training
from forecast.cli import commands as commands_
from forecast.cli import engines as cli_engines
from forecast.cli.logs import FORMATS, error_record, exit_code, make_handler
from forecast.cli.score import add_score_command
from forecast.cli.sinks import REPORT_METADATA, add_output_flags, add_sink_flags
from forecast.cli.sources import add_source_flags

__all__ = ["main"]

logger = logging.getLogger("forecast")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


# ------------------------------------------------------------------------------ parser


def _command_of(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def _add_estimator_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """``--estimator``, ``--config``, ``--ensemble`` and one flag per estimator parameter."""
    from forecast.cli.params import (
        add_estimator_flags,
        estimator_aliases,
        load_config,
        resolve_cli_estimator,
    )

    pre = _Parser(prog=f"forecast {_command_of(argv)}", add_help=False, allow_abbrev=False)
    pre.add_argument("--estimator")
    pre.add_argument("--preset")
    pre.add_argument("--config", "--model-config", dest="config")
    known, _ = pre.parse_known_args(argv)
    config = load_config(known.config) if known.config else None
    model_table = (config or {}).get("model", {})
    preset = known.preset or model_table.get("preset")
    default = "lstm" if preset is not None else "rnn"  # the preset's network: an LSTM
    name = known.estimator or model_table.get("estimator") or default
    cls = resolve_cli_estimator(name)
    parser.add_argument(
        "--estimator",
        default=argparse.SUPPRESS,
        help=f"{', '.join(estimator_aliases())} (default rnn; also 'estimator' in [model])",
    )
    parser.add_argument(
        "--config",
        "--model-config",
        dest="config",
        metavar="TOML",
        help="job file: [model] parameters and this command's options; flags override it",
    )
    parser.add_argument(
        "--ensemble", type=int, metavar="N", default=argparse.SUPPRESS,
        help="fit N models, seeded random_state + 0 ... N-1, and forecast their median "
        "(EnsembleForecaster; also 'ensemble' in [model])",
    )  # fmt: skip
    from forecast.cli.preset import PRESETS
    from forecast.forecasters.presets import PARTNERS

    parser.add_argument(
        "--preset", choices=PRESETS, default=argparse.SUPPRESS,
        help="panel: the model forecast.presets.panel_forecaster builds, an LSTM with "
        "panel_params' settings for the data's series (flags override them) and "
        "--partner theta+damped-trend+ets (optimised-theta+damped-trend+ets with "
        "--season-length 1); needs --season-length and --horizon (also 'preset' "
        "in [model])",
    )  # fmt: skip
    parser.add_argument(
        "--partner", choices=(*PARTNERS, "none"), default=argparse.SUPPRESS,
        help="combine the model with a statistical model fitted per series, as "
        "forecast.presets.panel_forecaster does (needs --season-length; also 'partner' in "
        "[model]); none: no partner, also under --preset",
    )  # fmt: skip
    parser.add_argument(
        "--partner-weight", type=float, metavar="W", default=argparse.SUPPRESS,
        help="the partner's weight in (0, 1) (default 0.5; also 'partner_weight' in [model])",
    )  # fmt: skip
    command = _command_of(argv) or ""
    taken = {*commands_.OPTIONS.get(command, ()), "refit_every"}  # the command's own
    names = add_estimator_flags(parser, cls, taken)
    parser.set_defaults(estimator_class=cls, estimator_params=names, config_data=config)


def _parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS,
        help="debug logs, and a traceback on errors",
    )  # fmt: skip
    common.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS,
        help="warnings and errors only",
    )  # fmt: skip
    common.add_argument(
        "--log-format", choices=FORMATS, default=argparse.SUPPRESS,
        help="text (default: UTC time, level, message) or json (one object per line)",
    )  # fmt: skip
    common.add_argument(
        "--log-file", metavar="PATH", default=argparse.SUPPRESS,
        help="append the logs to PATH instead of stderr",
    )  # fmt: skip
    parser = _Parser(
        prog="forecast",
        description="Fit, save and run forecasting models from scheduled jobs (cron, CI).",
        parents=[common],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = _command_of(argv)

    def command(name: str, run: Any, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, parents=[common], help=text, description=text, allow_abbrev=False
        )
        sub.set_defaults(run=run, config=None, config_data=None)
        return sub

    data_help = (
        "CSV or Parquet file (by extension), a folder of parts, a glob, - (CSV on stdin), or "
        "a database URL with --table/--query"
    )
    fit = command("fit", commands_.run_fit, "train an estimator on a data file and save the model")
    fit.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
    fit.add_argument("--out", default=argparse.SUPPRESS, help="model file to write")
    training.add_flags(fit)
    pred = command(
        "predict", commands_.run_predict, "forecast with a saved model; write CSV or Parquet"
    )
    pred.add_argument("--model", default=argparse.SUPPRESS, help="saved model file")
    pred.add_argument(
        "--data", default=argparse.SUPPRESS,
        help=f"{data_help}: the latest history (default: forecast from the training data)",
    )  # fmt: skip
    pred.add_argument("--out", default=argparse.SUPPRESS, help="output file, or - (default)")
    pred.add_argument("--horizon", type=int, default=argparse.SUPPRESS, help="steps to output")
    pred.add_argument(
        "--estimator", metavar="MODULE:CLASS", default=argparse.SUPPRESS,
        help="a forecaster of your own that the model file holds: its module is imported "
        "so that the class is defined (forecast's own need nothing)",
    )  # fmt: skip
    pred.add_argument("--config", metavar="TOML", help="job file; its [predict] table")
    bad_series.add_flags(pred)
    cli_engines.add_flags(pred)
    back = command(
        "backtest", commands_.run_backtest, "rolling-origin evaluation; write the metrics"
    )
    back.add_argument("--data", default=argparse.SUPPRESS, help=data_help)
    back.add_argument("--out", default=argparse.SUPPRESS, help="metrics file, or - (default)")
    back.add_argument("--windows", type=int, default=argparse.SUPPRESS, help="forecast origins")
    back.add_argument("--step", type=int, default=argparse.SUPPRESS, help="steps between them")
    back.add_argument(
        "--window", default=argparse.SUPPRESS, help="training window: expanding (default) ..."
    )
    bad_series.add_backtest_flags(back)
    refit = back.add_mutually_exclusive_group()
    refit.add_argument(
        "--refit", action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
        help="refit at every origin (default) or fit once",
    )  # fmt: skip
    refit.add_argument(
        "--refit-every", dest="refit", type=int, metavar="K", default=argparse.SUPPRESS,
        help="refit at every K-th origin; the others are forecast by the last fitted model",
    )  # fmt: skip
    back.add_argument(
        "--model", default=argparse.SUPPRESS,
        help="saved model: backtest its estimator and parameters, and record the scores in "
        "the file (its card's backtest line)",
    )  # fmt: skip
    for sub in (fit, pred, back):
        add_source_flags(sub)
    add_sink_flags(pred)
    add_output_flags(back, "metrics", REPORT_METADATA)
    for sub, name in ((fit, "fit"), (back, "backtest")):
        if chosen == name:  # imports the estimator (torch): only when it is needed
            _add_estimator_options(sub, argv)
    add_score_command(commands, common)
    info = command(
        "info", commands_.run_info, "describe a saved model: what it is, what it was trained on"
    )
    info.add_argument("model", help="saved model file")
    info.add_argument("--json", action="store_true", help="as JSON")
    demo = command(
        "demo", commands_.run_demo_command, "train, backtest and forecast on bundled data"
    )
    demo.add_argument("--out-dir", default=".", help="folder for forecast.csv and forecast.png")
    demo.add_argument("--max-epochs", type=int, default=None, help="training budget (30)")
    demo.add_argument(
        "--quick", action="store_true",
        help="a smoke run in seconds: 1 epoch on data from 2017, 2 backtest windows "
        "(checks an installation; its errors mean nothing)",
    )  # fmt: skip
    return parser


# ------------------------------------------------------------------------------ main


@contextlib.contextmanager
def _logging(args: argparse.Namespace) -> Iterator[None]:
    """Our log records and warnings as one line each on stderr; restored afterwards."""
    handler = make_handler(
        getattr(args, "log_format", "text"), sys.stderr, getattr(args, "log_file", None)
    )
    saved = logger.level, logger.propagate
    verbose, quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            # Ours are UserWarnings: logged, never raised, whatever filters the caller has.
            warnings.filterwarnings("default", category=UserWarning)
            warnings.showwarning = _log_warning
            yield
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _log_warning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    logger.warning("%s", message)  # one line, without the source line Python would print


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises :class:`~forecast.Terminated` while a command runs (Python's default
    ends the process on the spot, with no clean-up and no message).

    Raised where the program is, like Ctrl-C's ``KeyboardInterrupt``: ``finally`` blocks
    and the atomic writes' clean-up run, and :func:`main` exits 143. During a fit,
    Lightning's SIGTERM handler calls this one after its own.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _error(exc: BaseException, argv: Sequence[str] = (), code: int = 2) -> str:
    message = " ".join(str(exc).split())
    if _flag_value(argv, "--log-format") == "json":
        return error_record(exc, message, code)
    return f"forecast: error: {type(exc).__name__}: {message}"


def _flag_value(argv: Sequence[str], flag: str) -> str | None:
    """The value of ``flag`` in ``argv`` (``--flag V`` or ``--flag=V``), before parsing."""
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1 :]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad usage or input, 1 other,
    130 Ctrl-C, 143 SIGTERM)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with _sigterm_raises():
        return _main(argv)


def _main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    try:
        args = _parser(argv).parse_args(argv)
        if args.version:
            from forecast._version import __version__

            print(f"forecast {__version__}")
            return 0
        if args.command is None:
            raise UsageError("a command is required: fit, predict, backtest, score, info or demo")
        if args.config and args.config_data is None:
            from forecast.cli.params import load_config

            args.config_data = load_config(args.config)
        commands_.check_config_options(args)
        with _logging(args):
            return args.run(args)
    except Terminated:
        print("forecast: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError:  # the reader of stdout went away (| head): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("forecast: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence of a scheduled job
        if verbose:
            traceback.print_exc()
        code = exit_code(exc)
        line = _error(exc, argv, code)
        print(line, file=sys.stderr)
        _append_to_log_file(argv, line)
        return code


def _append_to_log_file(argv: Sequence[str], line: str) -> None:
    """The error line in ``--log-file`` too, so that the log tells how the run ended."""
    path = _flag_value(argv, "--log-file")
    if path is None:
        return
    # The error is on stderr whatever happens here.
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
