"""Turning angles into answers: strides, repetitions, range-of-motion tests."""
