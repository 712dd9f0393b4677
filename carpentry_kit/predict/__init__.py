"""Predict a benchmark's time and energy on hardware you do not have, and check the prediction.

``hardware`` (profiles with a source for every figure; the catalogue in ``hardware/``), ``calibrate`` (this
machine's achieved rates), ``roofline`` (the model), ``work`` (a spec's work per timed unit) and
``predictor`` (``predict`` -> a record with ``status: predicted``; ``prediction_error``). It reads specs and
the workload registry and writes records through ``results``; it imports nothing from explore, teaching or
cli.
"""
