"""``forecast.fit_spark``: a global model from a Spark DataFrame, through ``TorchDistributor``.

The frame is written once as Parquet parts partitioned by series id
(``repartition(n, id_col)``: each series in one part), then ``TorchDistributor`` (from
``pyspark.ml.torch.distributor``) starts the training processes, on the driver
(``local_mode=True``) or as a barrier stage on the executors, under ``torchrun``. Each
process fits the estimator on ``forecast.parts(folder)`` with Lightning's ``"ddp"``
strategy, so each reads only its own parts (``forecast/forecasters/_partitioned.py``);
rank 0 saves the fitted model into the parts folder, where the driver loads it.

No cluster of our own: Spark schedules the processes, torchrun connects them, Lightning
trains. ``folder`` must be one path that the driver writes and every training process reads
(local disk for ``local_mode=True``; a shared file system or a mounted object store on a
cluster).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import numpy as np

from forecast._exceptions import DataError, InvalidParameterError, UsageError
from forecast.data.parts import parts
from forecast.forecasters._partitioned import refuse_unsupported
from forecast.forecasters.base import BaseForecaster
from forecast.forecasters.builtin import load

__all__ = ["fit_spark"]


def _distributor() -> Any:
    try:
        from pyspark.ml.torch.distributor import TorchDistributor
    except ImportError:
        raise UsageError(
            "fit_spark needs pyspark, which is not installed. Install it with "
            "`pip install 'forecast-rnn[spark]'`."
        ) from None
    return TorchDistributor


FITTED_FILE = "_fitted.safetensors"  # rank 0's model, beside the parts (not a part: no .parquet)


def fit_spark(
    model: BaseForecaster,
    frame: Any,
    folder: str | os.PathLike[str],
    *,
    num_processes: int = 2,
    local_mode: bool = True,
    use_gpu: bool = False,
    parts_per_process: int = 4,
) -> BaseForecaster:
    """Fit ``model`` on a long Spark DataFrame, each training process reading its own series.

    Parameters
    ----------
    model : RNNForecaster, LSTMForecaster or GRUForecaster
        With an ``id_col`` (or Nixtla's ``unique_id`` columns); unfitted, or fitted with
        ``warm_start=True`` to continue it (it travels to every process as its model file).
        Its ``trainer_kwargs`` are kept, except ``accelerator``, ``devices``, ``num_nodes``
        and ``strategy``, which follow the processes Spark starts.
    frame : pyspark.sql.DataFrame
        Long format: id, time, target and covariates.
    folder : str or os.PathLike
        Where the parts are written (must not exist yet); visible to every process. The
        fitted model is left there too, as ``_fitted.safetensors``.
    num_processes : int, default 2
        Training processes (``TorchDistributor``'s ``num_processes``).
    local_mode : bool, default True
        Train on the driver (True) or on the executors, as a barrier stage.
    use_gpu : bool, default False
        One GPU per process.
    parts_per_process : int, default 4
        Parquet parts per process (more parts balance the rows better).

    Returns
    -------
    BaseForecaster
        A new fitted estimator of the class and parameters of ``model``.

    Raises
    ------
    UsageError
        pyspark is not installed.
    InvalidParameterError, DataError, DataTypeError
        Before anything is written: not a recurrent forecaster, no id column, a warm start
        the frame does not match.

    Examples
    --------
    With a Spark session ``spark`` and a long frame of series (``unique_id, ds, y``):

    >>> import forecast
    >>> from forecast.datasets import load_air_passengers
    >>> frame = load_air_passengers().rename_axis("ds").reset_index().assign(unique_id="air")
    >>> model = forecast.LSTMForecaster(seq_len=12, horizon=6, max_epochs=1, random_state=0)
    >>> fitted = forecast.fit_spark(  # doctest: +SKIP
    ...     model, spark.createDataFrame(frame), "/shared/air-parts", num_processes=2
    ... )
    >>> fitted.predict()  # doctest: +SKIP
    """
    distributor = _distributor()
    model._check_params()
    refuse_unsupported(model)
    params = model.get_params(deep=False)
    id_col = params.get("id_col") or "unique_id"
    if id_col not in frame.columns:
        raise DataError(
            f"The Spark DataFrame has no id column {id_col!r} (its columns: {frame.columns}): "
            "fit_spark trains on a long frame of many series; pass id_col=."
        )
    if num_processes < 1 or parts_per_process < 1:
        raise InvalidParameterError(
            "num_processes and parts_per_process of fit_spark must be ints >= 1. Got "
            f"{num_processes} and {parts_per_process} instead."
        )
    warm = _warm_bytes(model, frame)
    path = os.fspath(folder)
    frame.repartition(num_processes * parts_per_process, id_col).write.parquet(path)
    distributor(num_processes=num_processes, local_mode=local_mode, use_gpu=use_gpu).run(
        _train, type(model), params, path, use_gpu, warm
    )
    # Read from the folder, not from run()'s return value: with local_mode=True every
    # process writes its return value to one output file, and the last to finish wins, so
    # rank 1's None could replace rank 0's model (an intermittent failure of the tests).
    file = Path(path) / FITTED_FILE
    if not file.is_file():
        raise RuntimeError(f"fit_spark: the training processes wrote no model to {file}")
    fitted = load(file)
    fitted.set_params(trainer_kwargs=params.get("trainer_kwargs"))
    return fitted


def _warm_bytes(model: Any, frame: Any) -> bytes | None:
    """A warm start's fitted model as its model file's bytes (each process continues it), checked
    against the frame's first rows before anything is written; None for a cold fit."""
    if not model.warm_start or "network_" not in vars(model):
        return None
    from forecast.forecasters._warm_start import check_warm_start
    from forecast.io.persistence import dumps

    sample, _ = model._to_panel(frame.limit(4096).toPandas(), np.float32)
    check_warm_start(model, sample)  # refused here, naming the difference, not on a worker
    return dumps(model)


def _train(
    cls: type, params: dict[str, Any], folder: str, use_gpu: bool, warm: bytes | None = None
) -> None:
    """One training process (under torchrun): fit on the parts; rank 0 saves the model file
    into ``folder`` (:data:`FITTED_FILE`, written atomically), where the driver reads it.

    ``warm``: the model file a warm start continues (``warm_start=True`` on a fitted model).
    """
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    kwargs = {
        **(params.get("trainer_kwargs") or {}),
        "accelerator": "gpu" if use_gpu else "cpu",
        "devices": local,
        "num_nodes": world // local,
        "strategy": "ddp",
    }
    if warm is None:
        model = cls(**{**params, "trainer_kwargs": kwargs})
    else:
        from forecast.io.persistence import loads

        model = cast(BaseForecaster, loads(warm, "the warm start's model"))
        model.set_params(**{**params, "trainer_kwargs": kwargs})
    model.fit(parts(folder))
    if int(os.environ.get("RANK", "0")) == 0:
        model.save(Path(folder) / FITTED_FILE)
