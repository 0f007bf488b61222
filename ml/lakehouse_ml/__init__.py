"""Conversion model: feature contract, training and evaluation, MLflow registry, distributed scoring."""
