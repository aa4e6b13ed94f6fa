"""The forecasters: one base class with the fit/predict template, and its subclasses.

* :mod:`~forecast.forecasters.base`: ``BaseForecaster``, fit, predict, score, intervals and
  model files written once, and the hooks a forecaster implements;
* :mod:`~forecast.forecasters.recurrent`: ``RNNForecaster``, ``LSTMForecaster``,
  ``GRUForecaster``; :mod:`~forecast.forecasters._network_forecast`: their batched forward
  passes;
* :mod:`~forecast.forecasters.baselines`: naive, seasonal naive, drift;
* :mod:`~forecast.forecasters.ensemble`: ``EnsembleForecaster``, the median of several seeds;
* :mod:`~forecast.forecasters.presets`: settings for panels of many short series;
* :mod:`~forecast.forecasters.builtin`: all of the above together, ``load`` and ``save``.
"""
