"""Evaluation: the product's results scored against a reference it never sees at run time.

``broad``: orientation against the optical truth of the BROAD data set;
``angles``: joint angles against the simulator's truth; ``analysis``: gait
events, strides, repetitions and test peaks against the simulator's truth.
Used by the tests, ``scripts/`` and front ends that print accuracy (``hiprot
demo``); no runtime package imports it.
"""
