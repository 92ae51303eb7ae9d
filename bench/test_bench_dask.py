"""The dask backend beside numba-parallel, on a LocalCluster of as many single-threaded worker
processes as numba has threads: the overhead of the engine (scatter, tasks, gather) is the
gap between the two rows of a group. (``python bench/dask_scaling.py`` measures the cost
model and projects it to bigger clusters.)"""
import numpy as np
import pytest

from fastgrad import runtime
from fastgrad.benchmark import benchmark_problem, gradient_cases
from fastgrad.gradients.analytic import analytic_gradient

pytestmark = pytest.mark.slow  # timings, not features: the full tier

SIZES = [([8, 64, 4], 1000), ([16, 64, 64, 8], 500)]


@pytest.fixture(scope="module")
def client():
    import distributed
    workers = runtime.max_threads()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.mark.parametrize("sizes,n", SIZES, ids=[f"{'-'.join(map(str, s))} n={n}" for s, n in SIZES])
@pytest.mark.parametrize("backend", ["numba-parallel", "dask"])
def test_cluster_gradient(record_environment, client, sizes, n, backend):
    benchmark = record_environment
    [case] = gradient_cases(sizes, n, (backend,), client)
    benchmark.group = case.group + " (cluster)"
    benchmark.extra_info.update(case=case.name, scale=case.scale, n_params=case.n_params,
                                workers=len(client.nthreads()))
    case.run()  # warm-up: compile, or load on every worker
    result = benchmark(case.run)
    exact = analytic_gradient(*benchmark_problem(sizes, n), backend="numpy")
    np.testing.assert_allclose(result, exact, rtol=0, atol=1e-8 * np.abs(exact).max())
