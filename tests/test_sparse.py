"""Sparse Jacobians by groups of columns, against scipy's: the same groups, the same bits."""
import sys

import numpy as np
import pytest
from numba import njit

sp = pytest.importorskip("scipy.sparse")
from scipy.optimize._numdiff import approx_derivative as scipy_approx_derivative  # noqa: E402
from scipy.optimize._numdiff import group_columns as scipy_group_columns  # noqa: E402

import fastgrad as fg  # noqa: E402
from fastgrad import sparse as fastgrad_sparse  # noqa: E402


def chain(x):
    """r_i = x_{i+1}^3 - x_i^2 and its neighbours (scipy's sparse test problem): tridiagonal."""
    e = x[1:] ** 3 - x[:-1] ** 2
    r = np.zeros(x.shape[0], dtype=x.dtype)
    r[1:] += 3.0 * e
    r[:-1] += 2.0 * e
    return r


def chain_structure(n):
    return sp.diags([np.ones(n - 1), np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="csr")


COMPILED_CHAIN = njit(chain)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_groups_are_scipys(seed):
    rng = np.random.default_rng(seed)
    A = (rng.random((30, 40)) < 0.1).astype(int)
    for structure in (A, sp.csr_array(A), sp.csc_matrix(A)):
        for order in (0, 7, None if seed else 0, rng.permutation(40)):
            expected = scipy_group_columns(structure, 0 if order is None else order)
            np.testing.assert_array_equal(fg.group_columns(structure, 0 if order is None else order), expected)
    wide = np.ones((2, 70), dtype=int)  # 70 groups: more than one pass's 64
    np.testing.assert_array_equal(fg.group_columns(wide, seed), scipy_group_columns(wide, seed))
    groups = fg.group_columns(A)
    for g in range(groups.max() + 1):  # no row has two columns of one group
        assert (A[:, groups == g].sum(axis=1) <= 1).all()


def test_the_sparse_paths_compiled_default_steps_are_numpys_to_the_bit():
    from fastgrad.bounded_steps import steps_of
    from fastgrad.rules import rule_of
    special = [0.0, -0.0, 1.0, -1.0, np.nan, -np.nan, np.inf, -np.inf, 1e-300, -1e-300, 0.999, -1.001, 3e300]
    x0 = np.concatenate([special, np.random.default_rng(3).normal(size=500) * np.logspace(-3, 3, 500)])
    for method in ("2-point", "3-point", "cs"):
        numpy_steps = steps_of(x0, rule_of(method), None, None)
        assert steps_of(x0, rule_of(method), None, None, compiled=True).tobytes() == numpy_steps.tobytes()
    x0 = np.array([-0.0, 0.0, -3.5, 12.25, -0.5, 1e3, -1e-9, 7.0])  # steps beyond r: |x_i| > 1, and a -0.0
    J = fg.approx_derivative(COMPILED_CHAIN, x0, method="2-point", sparsity=chain_structure(8))
    theirs = scipy_approx_derivative(COMPILED_CHAIN, x0, method="2-point", sparsity=chain_structure(8))
    assert J.toarray().tobytes() == theirs.toarray().tobytes()


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs"])
def test_python_function_equals_scipy_bit_for_bit(method):
    n = 20
    x0 = np.linspace(-0.9, 0.9, n)
    bounds = (-0.1 * (1 + np.arange(n)), 0.1 * (1 + np.arange(n)))
    x0 = np.clip(x0, *bounds)
    for structure in (chain_structure(n), sp.csr_matrix(chain_structure(n)), chain_structure(n).toarray()):
        for options in ({}, {"bounds": bounds}, {"rel_step": 1e-6}):
            ours = fg.approx_derivative(chain, x0, method=method, sparsity=structure, **options)
            theirs = scipy_approx_derivative(chain, x0, method=method, sparsity=structure, **options)
            assert type(ours) is type(theirs)
            np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
    mapped, info = fg.approx_derivative(chain, x0, method=method, sparsity=chain_structure(n), workers=map,
                                        full_output=True)
    plain = fg.approx_derivative(chain, x0, method=method, sparsity=chain_structure(n))
    np.testing.assert_array_equal(mapped.toarray(), plain.toarray())
    assert fg.group_columns(chain_structure(n)).max() + 1 == 5  # scipy's groups; the columns' own order needs 3
    assert info["nfev"] == 1 + (2 if method == "3-point" else 1) * 3


def test_any_csr_structure_gives_scipys_jacobian_in_arrays_of_its_own():
    n = 12
    x0 = np.linspace(-0.9, 0.9, n)
    canonical = chain_structure(n)
    indptr, indices = canonical.indptr.copy(), canonical.indices.copy()
    indices[indptr[1]:indptr[2]] = indices[indptr[1]:indptr[2]][::-1]  # unsorted
    data = np.ones(indices.size)
    data[indptr[2]] = 0.0  # an explicit zero: not in the structure
    duplicated = sp.csr_array((np.r_[data, 1.0, -1.0], np.r_[indices, 5, 5], np.r_[indptr[:-1], indptr[-1] + 2]),
                              shape=(n, n))  # and row n - 1 has column 5 twice, summing to 0
    for structure in (canonical, sp.csr_array((data, indices, indptr), shape=(n, n)), duplicated):
        before = (structure.indptr.copy(), structure.indices.copy(), structure.data.copy())
        for method in ("2-point", "3-point"):
            ours = fg.approx_derivative(COMPILED_CHAIN, x0, method=method, sparsity=structure, backend="numba")
            theirs = scipy_approx_derivative(COMPILED_CHAIN, x0, method=method, sparsity=structure)
            np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
            assert ours.has_canonical_format and not np.shares_memory(ours.indices, structure.indices)
            assert not np.shares_memory(ours.indptr, structure.indptr)
        np.testing.assert_array_equal(fg.group_columns(structure, 3), scipy_group_columns(structure, 3))
        for was, now in zip(before, (structure.indptr, structure.indices, structure.data)):
            np.testing.assert_array_equal(was, now)


def test_kept_groups_follow_the_structure_entry_for_entry():
    n = 30
    x0 = np.linspace(-0.9, 0.9, n)
    structure = chain_structure(n)
    for _ in range(2):  # the second call takes the groups kept from the first
        ours = fg.approx_derivative(COMPILED_CHAIN, x0, sparsity=structure, backend="numba")
        np.testing.assert_array_equal(ours.toarray(), scipy_approx_derivative(COMPILED_CHAIN, x0,
                                                                              sparsity=structure).toarray())
    plan = fastgrad_sparse._LAST[3]
    structure.indices[structure.indptr[4] + 2] = 6  # changed in place: row 4 reads column 6, not 5 (still sorted)
    now = fastgrad_sparse.fewest_groups(fastgrad_sparse.pattern(structure))
    assert (now != plan.groups).any()  # so stale groups would show
    ours = fg.approx_derivative(chain, x0, sparsity=structure)  # f reads column 5: the groups decide the entries
    theirs = scipy_approx_derivative(chain, x0, sparsity=(structure, now))
    np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
    np.testing.assert_array_equal(fastgrad_sparse._LAST[3].groups, now)
    assert not plan.groups.flags.writeable


@pytest.mark.parametrize("parallel", [False, True])
def test_the_kept_pattern_is_compared_in_every_share(parallel, two_threads):
    from fastgrad.kernels import sparse as kernels
    from fastgrad.kernels import specialise
    same = specialise.specialise(kernels.same_entries, (), parallel=parallel)
    kept = chain_structure(41)
    for shares in (1, 2, 3, 4):
        assert same(kept.indptr, kept.indices, kept.data, kept.indptr.copy(), kept.indices.copy(), shares)
        for where in (0, kept.nnz // 2, kept.nnz - 1):  # in the first share, a middle one, the last
            indices, data = kept.indices.copy(), kept.data.copy()
            indices[where] += 1
            assert not same(kept.indptr, indices, kept.data, kept.indptr, kept.indices, shares)
            data[where] = 0.0  # an explicit zero is no entry
            assert not same(kept.indptr, kept.indices, data, kept.indptr, kept.indices, shares)
        indptr = kept.indptr.copy()
        indptr[-2] -= 1  # the last row but one ends one entry early: same total
        assert not same(indptr, kept.indices, kept.data, kept.indptr, kept.indices, shares)
        assert not same(kept.indptr[:-1], kept.indices, kept.data, kept.indptr, kept.indices, shares)


def test_the_fewer_groups_of_scipys_order_and_the_columns_own_are_taken():
    banded = sp.diags([np.ones(40 - abs(d)) for d in range(-2, 3)], list(range(-2, 3)), format="csr")
    assert fg.group_columns(banded).max() + 1 > 5  # scipy's random order
    np.testing.assert_array_equal(fastgrad_sparse.fewest_groups(fastgrad_sparse.pattern(banded)), np.arange(40) % 5)
    k = 12  # a crown: columns 2i and 2j + 1 share a row unless i == j; the columns' own order needs k groups
    crown = np.zeros((k * (k - 1), 2 * k), dtype=int)
    for row, (i, j) in enumerate((i, j) for i in range(k) for j in range(k) if i != j):
        crown[row, [2 * i, 2 * j + 1]] = 1
    scipys = scipy_group_columns(crown)
    assert scipys.max() + 1 < k
    np.testing.assert_array_equal(fastgrad_sparse.fewest_groups(fastgrad_sparse.pattern(crown)), scipys)
    x0 = np.linspace(-1.0, 1.0, 2 * k)
    A = np.random.default_rng(0).random(crown.shape) * crown
    J, info = fg.approx_derivative(lambda x: A @ np.sin(x), x0, sparsity=crown, full_output=True)
    assert info["nfev"] == 1 + 2 * (scipys.max() + 1)
    np.testing.assert_array_equal(J.toarray(), scipy_approx_derivative(lambda x: A @ np.sin(x), x0,
                                                                       sparsity=crown).toarray())


def test_compiled_groups_equal_scipy_on_every_backend_and_thread_count(force_threads):
    n = 200
    x0 = np.linspace(-1.0, 1.0, n)
    structure = chain_structure(n)
    bounds = (-1.0, 1.0 + 1e-7)  # one-sided steps at both ends
    for method in ("2-point", "3-point"):
        theirs = scipy_approx_derivative(COMPILED_CHAIN, x0, method=method, sparsity=structure, bounds=bounds)
        for backend, workers in (("numba", None), ("numba-parallel", None), ("numba-parallel", 2), (None, 1)):
            ours = fg.approx_derivative(COMPILED_CHAIN, x0, method=method, sparsity=structure, backend=backend,
                                        workers=workers, bounds=bounds)
            np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
    theirs = scipy_approx_derivative(COMPILED_CHAIN, x0, sparsity=structure).toarray()
    dense = fg.approx_derivative(COMPILED_CHAIN, x0)
    np.testing.assert_allclose(theirs, dense, rtol=0, atol=1e-12 * np.abs(dense).max())


def test_sparse_input_is_refused_in_words(monkeypatch):
    x0 = np.linspace(-1.0, 1.0, 6)
    with pytest.raises(ValueError, match=r"sparsity: the structure has shape \(5, 5\); the Jacobian's is \(6, 6\)"):
        fg.approx_derivative(chain, x0, sparsity=chain_structure(5))
    with pytest.raises(ValueError, match=r"method: sparsity takes 2-point, 3-point or cs .*not 'central4'"):
        fg.approx_derivative(chain, x0, method="central4", sparsity=chain_structure(6))
    with pytest.raises(ValueError, match=r"sparsity: groups must be 6 non-negative ints, got shape \(3,\)"):
        fg.approx_derivative(chain, x0, sparsity=(chain_structure(6), [0, 1, 2]))
    with pytest.raises(ValueError, match=r"order: expected a permutation of 6 columns, got shape \(2,\)"):
        fg.group_columns(chain_structure(6), [0, 1])
    with pytest.raises(ValueError, match=r"order: expected a permutation of 6 columns, each once"):
        fg.group_columns(chain_structure(6), [0, 1, 2, 3, 4, 4])
    with pytest.raises(ValueError, match=r"workers: expected a positive int, -1 \(every CPU\) or a map-like"):
        fg.approx_derivative(chain, x0, workers=0)
    with pytest.raises(ValueError, match=r"Bounds not supported when `as_linear_operator` is True"):
        fg.approx_derivative(chain, x0, as_linear_operator=True, bounds=(-2.0, 2.0))
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ValueError, match=r"sparsity: needs scipy \(pip install scipy\)"):
        fg.approx_derivative(chain, x0, sparsity=np.eye(6))
    monkeypatch.setitem(sys.modules, "scipy.sparse.linalg", None)
    with pytest.raises(ValueError, match=r"as_linear_operator: needs scipy \(pip install scipy\)"):
        fg.approx_derivative(chain, x0, as_linear_operator=True)


def test_blocks_of_groups_on_the_cluster_equal_the_serial_loop():
    distributed = pytest.importorskip("distributed")
    n = 60
    x0 = np.linspace(-1.0, 1.0, n)
    structure = chain_structure(n)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0")
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        for fun, serial in ((chain, "python"), (COMPILED_CHAIN, "numba")):
            for method in ("2-point", "3-point", "cs"):
                expected = fg.approx_derivative(fun, x0, method=method, sparsity=structure, backend=serial)
                for blocks in (None, 2, 50):
                    got = fg.approx_derivative(fun, x0, method=method, sparsity=structure, backend="dask",
                                               client=client, blocks=blocks)
                    np.testing.assert_array_equal(got.toarray(), expected.toarray())
