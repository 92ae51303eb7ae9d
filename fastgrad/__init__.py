"""fastgrad: gradients of multilayer perceptrons by backpropagation and by fast finite differences."""
__version__ = "0.1.0"

from .check import GradcheckReport, gradcheck
from .diagnostics import runtime_info
from .gradients.analytic import analytic_gradient
from .gradients.numerical import numerical_gradient
from .model import MLP
from .bound import Problem
from .problem import loss
from .runtime import KernelError, get_num_threads, set_num_threads
from .sweep import HSweep, hsweep
from .gradients.numerical import NumericalGradient
from .io import load_weights, save_weights
from .train import DivergenceError, History, train
from .derivatives import approx_derivative, check_grad
from .hessians import hessian, hessian_diagonal, hessian_vector_product
from .directional import jvp
from .derivative_checks import check_gradient, check_jacobian
from .sparse import group_columns
from .custom import Activation, Loss
from .optimizers import Adam, Momentum, Optimizer
from .predict import Model, load_model
from . import datasets, metrics

__all__ = ["MLP", "analytic_gradient", "numerical_gradient", "gradcheck", "GradcheckReport", "loss",
           "set_num_threads", "get_num_threads", "runtime_info", "KernelError", "train", "History",
           "DivergenceError", "datasets", "hsweep", "HSweep", "NumericalGradient", "save_weights", "load_weights",
           "Problem", "approx_derivative", "check_grad", "hessian", "hessian_diagonal", "jvp", "group_columns",
           "check_gradient", "check_jacobian", "hessian_vector_product", "Activation", "Loss",
           "Optimizer", "Momentum", "Adam", "Model", "load_model", "metrics"]
