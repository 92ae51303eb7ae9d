"""Numba kernels: plain arrays and scalars in, arrays and scalars out.

Nothing here imports from the rest of fastgrad.
"""
