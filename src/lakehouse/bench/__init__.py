"""Benchmarks that print figures: the whole pipeline, ingestion and ML stages, and the memory watch."""
