"""Install a built wheel into a fresh virtual environment outside the repository and use it.

``python .ci/smoke.py dist/forecast_rnn-X.Y.Z-py3-none-any.whl`` (or ``dist/``; ``make
smoke``, run by ``.ci/run`` after ``make dist``): what an editable install hides (a data file,
a licence or a module left out of the wheel, a path into the source checkout) fails here. In
a new folder under the system's temporary directory it

1. creates a virtual environment and installs ``$TORCH`` (default ``torch``; CI passes the
   Makefile's pin, our local CPU wheel) and the wheel, with its dependencies, with the pip
   of the Python that runs this script (``pip --python``);
2. from a working folder there (the repository is neither the current folder nor on the
   path, and ``forecast.__file__`` must lie inside the new environment) runs
   ``forecast --version`` (the wheel's version), the ``forecast.datasets`` loaders (and the
   data's licence files beside the data) and a tiny RNN fitted on the air passengers and
   saved, ``forecast demo --quick``, ``python -m forecast info`` on the saved model and
   ``forecast predict`` with it;
3. prints each step's output and time, and removes the folder (``--keep`` keeps it).

Standard library only: it runs with the system Python, before and outside any project venv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

LOADERS = textwrap.dedent(
    """
    from importlib import resources
    import forecast
    from forecast.datasets import STOCK_TICKERS, load_air_passengers, load_stock_prices

    print("forecast imported from", forecast.__file__)
    prices = load_stock_prices(None)
    counts = prices.groupby("ticker").size().to_dict()
    assert counts == {"MSFT": 7983, "^GSPC": 5031, "^IXIC": 5031}, counts
    for ticker in STOCK_TICKERS:
        assert len(load_stock_prices(ticker)) == counts[ticker], ticker
    air = load_air_passengers()
    assert air.shape == (144, 1) and air.index.freqstr == "MS", air
    data = resources.files("forecast") / "_datasets"
    for name in ("README.md", "LICENSES/pmdarima-MIT.txt", "LICENSES/arch-NCSA.md",
                 "LICENSES/CC0-1.0.txt"):
        assert (data / name).is_file(), f"{name} is not beside the data"
    print("stock prices:", counts, "| air passengers:", air.shape, "| licences beside the data")

    # A model saved here, for `python -m forecast info` and `forecast predict` (in this
    # process rather than `forecast fit`: each process imports torch and Lightning again).
    from forecast import RNNForecaster

    model = RNNForecaster(seq_len=12, horizon=3, hidden_size=4, max_epochs=1, random_state=0,
                          progress_bar=False)
    model.fit(air).save("model.safetensors")
    print("saved model.safetensors")
    """
)


def _step(title: str, argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    print(f"\n$ {' '.join(argv)}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    output = (proc.stdout + proc.stderr).rstrip()
    if output:
        print(textwrap.indent(output, "  "))
    print(f"  [{title}: exit {proc.returncode}, {seconds:.1f} s]", flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"smoke: {title} failed (exit {proc.returncode})")
    return proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the wheel, or the folder that holds it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    wheels = sorted(args.wheel.glob("*.whl")) if args.wheel.is_dir() else [args.wheel]
    if len(wheels) != 1 or not wheels[0].is_file() or wheels[0].suffix != ".whl":
        raise SystemExit(f"smoke: no one wheel file at {args.wheel} (run 'make dist' first)")
    wheel = wheels[0].resolve()
    version = wheel.name.split("-")[1]
    torch = os.environ.get("TORCH") or "torch"

    begin = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="forecast-smoke-")).resolve()
    if root.is_relative_to(REPO):
        raise SystemExit(f"smoke: {root} is inside the repository; set TMPDIR elsewhere")
    work = root / "work"
    work.mkdir()
    bin_ = root / "venv" / "bin"
    # Nothing of the repository or of a calling venv may leak in.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    try:
        print(f"smoke: {wheel.name} into a fresh venv in {root}")
        # Time matters here (CI's budget): a venv without pip of its own (ensurepip took ~15 s
        # on a loaded machine), filled by this Python's pip (--python, pip >= 22.3), in one
        # resolver run, without byte-compiling torch's thousands of modules.
        _step("venv", [sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
              work, env)  # fmt: skip
        pip = [sys.executable, "-m", "pip", "--python", str(bin_ / "python"), "install"]
        _step("install", [*pip, "-qq", "--no-compile", torch, str(wheel)], work, env)
        installed = time.perf_counter()

        out = _step("forecast --version", ["forecast", "--version"], work, env)
        if out.strip() != f"forecast {version}":
            raise SystemExit(f"smoke: --version printed {out.strip()!r}, not 'forecast {version}'")
        out = _step("datasets, fit, save", [str(bin_ / "python"), "-c", LOADERS], work, env)
        if not out.split()[3].startswith(str(root / "venv")):
            raise SystemExit(f"smoke: forecast was imported from outside the venv: {out}")
        _step("demo", ["forecast", "--quiet", "demo", "--quick", "--out-dir", "demo"], work, env)
        for name in ("forecast.csv", "forecast.png"):
            if not (work / "demo" / name).is_file():
                raise SystemExit(f"smoke: the demo wrote no {name}")
        info = [str(bin_ / "python"), "-m", "forecast", "info", "model.safetensors"]
        out = _step("info", info, work, env)
        if "RNNForecaster" not in out or version not in out:
            raise SystemExit("smoke: info does not name the model and the library version")
        predict = ["forecast", "--quiet", "predict", "--model", "model.safetensors", "--out", "-"]
        out = _step("predict", predict, work, env)
        if len(out.strip().splitlines()) != 1 + 3:  # the header and the horizon's 3 months
            raise SystemExit(f"smoke: predict wrote {out!r}")
        done = time.perf_counter()
        print(
            f"\nsmoke: passed in {done - begin:.0f} s (venv and installs "
            f"{installed - begin:.0f} s, checks {done - installed:.0f} s)"
        )
    finally:
        if args.keep:
            print(f"smoke: kept {root}")
        else:
            start = time.perf_counter()
            shutil.rmtree(root, ignore_errors=True)
            print(f"smoke: removed {root} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
