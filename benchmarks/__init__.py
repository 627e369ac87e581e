"""Benchmarks: our engine side by side with micrograd, torch scalars, plain floats and numpy."""
