"""Gradients of the loss with respect to theta: analytic (backprop) and numerical (finite differences)."""
