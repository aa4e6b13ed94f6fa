"""The ``forecast`` command line. A thin layer: parse, call the library, map errors to exit codes.

Exit codes: 0 success, 2 bad usage or bad input, 1 anything else.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from forecast._exceptions import ForecastError

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from forecast.demo import run_demo

    result = run_demo(
        args.out_dir,
        max_epochs=args.max_epochs,
        progress_bar=sys.stderr.isatty() and not args.quiet,
    )
    print(
        f"Backtest on the last 5 trading days of MSFT (mean absolute error, USD):\n"
        f"  LSTM   {result.model_mae:8.3f}\n"
        f"  naive  {result.naive_mae:8.3f}  (last value repeated)\n"
        f"Forecast of the next 5 trading days:\n{result.forecast.round(2).to_string()}\n"
        f"Wrote {result.csv_path} and {result.png_path}"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forecast", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--quiet", action="store_true", help="silence information logs")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train, backtest and forecast on bundled data")
    demo.add_argument("--out-dir", default=".", help="folder for forecast.csv and forecast.png")
    demo.add_argument("--max-epochs", type=int, default=30)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.run(args)
    except ForecastError as exc:
        if args.verbose:
            raise
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the last line of defence of a scheduled job
        if args.verbose:
            raise
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
