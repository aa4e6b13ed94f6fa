"""Rebuild the bundled data files from the PyPI wheels that ship them (see README.md).

Usage::

    pip download --no-deps pmdarima==2.1.1 arch==8.0.0 -d wheels
    python datasets/extract.py wheels [OUT_DIR]

Reads only the wheels (zip files); imports neither package.
"""

from __future__ import annotations

import ast
import gzip
import io
import sys
import tarfile
import zipfile
from pathlib import Path

import pandas as pd


def _member(wheels: Path, package: str, name: str) -> bytes:
    (wheel,) = wheels.glob(f"{package}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name)


def stock_prices(wheels: Path) -> pd.DataFrame:
    with tarfile.open(
        fileobj=io.BytesIO(_member(wheels, "pmdarima", "pmdarima/datasets/data/msft.tar.gz"))
    ) as tar:
        msft = pd.read_csv(tar.extractfile("msft.csv"))
    frames = [msft.assign(ticker="MSFT")]
    for ticker, name in (("^GSPC", "sp500/sp500"), ("^IXIC", "nasdaq/nasdaq")):
        raw = _member(wheels, "arch", f"arch/data/{name}.csv.gz")
        frame = pd.read_csv(io.BytesIO(gzip.decompress(raw)))
        frame["Date"] = pd.to_datetime(frame["Date"], format="%m/%d/%Y").dt.strftime("%Y-%m-%d")
        frames.append(frame.assign(ticker=ticker))
    out = pd.concat(frames, ignore_index=True).rename(columns=str.lower)
    return out[["ticker", "date", "open", "high", "low", "close", "volume"]]


def air_passengers(wheels: Path) -> pd.DataFrame:
    # The values are a literal array in the loader's source: read it without importing.
    source = _member(wheels, "pmdarima", "pmdarima/datasets/airpassengers.py").decode()
    tree = ast.parse(source)
    values = next(
        ast.literal_eval(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "array"
    )
    months = pd.date_range("1949-01-01", periods=len(values), freq="MS")
    return pd.DataFrame({"month": months.strftime("%Y-%m-%d"), "passengers": values})


def main(argv: list[str]) -> None:
    wheels = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent
    # Rounded to 10 decimals: the sources' precision, without binary artefacts such as
    # 0.08388999999999999 for 0.08389 in pmdarima's MSFT file.
    csv = stock_prices(wheels).round(10).to_csv(index=False).encode()
    (out / "stock_prices.csv.gz").write_bytes(gzip.compress(csv, compresslevel=9, mtime=0))
    air_passengers(wheels).to_csv(out / "air_passengers.csv", index=False)


if __name__ == "__main__":
    main(sys.argv[1:])
