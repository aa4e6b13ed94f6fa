"""How good a forecast is: metrics, backtests and the maths of conformal intervals.

* :mod:`~forecast.evaluation.metrics`: point and interval metrics, on arrays or frames;
* :mod:`~forecast.evaluation.folds`: where each backtest window cuts each series;
* :mod:`~forecast.evaluation.tables`: tidy forecast and metric tables, MASE's scale;
* :mod:`~forecast.evaluation.backtest`: ``backtest``, rolling-origin evaluation of any
  forecaster, through :class:`forecast.protocol.Forecaster` only;
* :mod:`~forecast.evaluation.conformal`: the calibration maths behind
  ``intervals="conformal"``.
"""
