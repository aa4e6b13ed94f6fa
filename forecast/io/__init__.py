"""Model files: one safetensors file per fitted forecaster, written atomically.

* :mod:`~forecast.io.persistence`: ``describe``, ``save`` and ``load`` of a forecaster,
  through :class:`forecast.protocol.Forecaster` only;
* :mod:`~forecast.io.document`: a forecaster's JSON document (parameters, fitted
  attributes) and the upgrade of older format versions;
* :mod:`~forecast.io.registry`: the forecaster classes a file may name;
* :mod:`~forecast.io.codecs`: JSON encodings of frequencies, timestamps, ids, values;
* :mod:`~forecast.io.model_file`: the file itself (format, version, checksum);
* :mod:`~forecast.io.atomic`: atomic writes; :mod:`~forecast.io.card`: model cards.
"""
