"""Benchmark scripts, run as `python -m spacy_lstm.benchmarks.<name>`."""
