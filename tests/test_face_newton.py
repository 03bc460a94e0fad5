"""Newton steps on the face of the sign pattern in the quadratic coordinate descent.

On badly conditioned designs (binary markers in linkage, more features than
samples, small alpha) coordinate descent converges with a rate close to one and
its duality gap lags behind the objective; the face steps of
``QuadraticCDState`` must close it, and every point they produce must still be a
certified optimum (the gap is recomputed here by :func:`duality_gap`, independently
of the solver), for every penalty form the quadratic solver takes.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from sksafe.datafits import Logistic, Poisson, Quadratic
from sksafe.penalties import L1, ElasticNet, WeightedL1
from sksafe.solvers import alpha_max, duality_gap, solve
from sksafe.solvers import _face
from sksafe.solvers._design import csc_row_pairs, csc_weighted_gram
from sksafe.solvers._face import face_gram
from sksafe.solvers._problem import make_problem
from sksafe.solvers._linalg import newton_direction
from sksafe.solvers._states import ProxNewtonState


def linked_markers(n=60, p=150, rho=0.95, seed=0):
    """0/1 markers thresholded from an AR(1) process along the genome, and a trait."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, p))
    latent = np.empty_like(z)
    latent[:, 0] = z[:, 0]
    for j in range(1, p):
        latent[:, j] = rho * latent[:, j - 1] + np.sqrt(1 - rho ** 2) * z[:, j]
    X = (latent > 0).astype(float)
    X[:, 7] = X[:, 3]  # an exact duplicate: a singular face
    y = X @ (rng.standard_normal(p) * (rng.random(p) < 0.3)) + 0.5 * rng.standard_normal(n)
    return X, y


def lasso_alpha_max(X, y):
    return np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / X.shape[0]


@pytest.mark.parametrize("ratio", [1e-3, 1e-4])
def test_face_steps_close_the_gap_where_coordinate_descent_stalls(ratio, monkeypatch):
    X, y = linked_markers()
    alpha = ratio * lasso_alpha_max(X, y)
    res = solve(X, y, Quadratic(), L1(alpha), tol=1e-10, max_iter=50)
    _, rel = duality_gap(X, y, Quadratic(), L1(alpha), res.coef, res.intercept)
    assert rel <= 1e-10
    assert res.n_epochs < 2_000
    if ratio == 1e-3:  # (at 1e-4 coordinate descent alone needs millions of epochs)
        monkeypatch.setattr(_face, "MAX_FACE_SIZE", 0)
        slow = solve(X, y, Quadratic(), L1(alpha), tol=1e-10, max_iter=50)
        assert slow.relative_gap <= 1e-10
        assert slow.n_epochs > 10 * res.n_epochs
        # (the duplicated column makes the coefficients non-unique, the fit unique)
        np.testing.assert_allclose(X @ slow.coef + slow.intercept, X @ res.coef + res.intercept,
                                   atol=1e-6)


PENALTIES = {
    "l1": lambda a, p: L1(a),
    "enet": lambda a, p: ElasticNet(a, l1_ratio=0.7),
    "positive": lambda a, p: L1(a, positive=True),
    "box": lambda a, p: L1(a, bounds=(np.full(p, -0.4), np.full(p, 0.3))),
    "weighted": lambda a, p: WeightedL1(a, weights=np.r_[0.0, np.linspace(0.5, 2.0, p - 1)]),
}


@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_face_steps_reach_certified_optimum(name, fit_intercept, weighted):
    X, y = linked_markers(seed=1)
    rng = np.random.default_rng(2)
    sample_weight = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    penalty = PENALTIES[name](1e-3 * lasso_alpha_max(X, y), X.shape[1])
    fits = []
    for design in (X, sp.csc_matrix(X)):
        res = solve(design, y, Quadratic(), penalty, sample_weight=sample_weight,
                    fit_intercept=fit_intercept, tol=1e-11, max_iter=100)
        _, rel = duality_gap(design, y, Quadratic(), penalty, res.coef, res.intercept,
                             sample_weight=sample_weight, fit_intercept=fit_intercept)
        assert rel <= 1e-11
        lower, upper = penalty.box(X.shape[1])
        assert np.all(res.coef >= lower) and np.all(res.coef <= upper)
        fits.append(res)
    dense, sparse = fits
    assert abs(dense.primal - sparse.primal) <= 1e-9 * abs(dense.primal)


def test_longest_step_lands_exactly_on_zero_and_on_bounds():
    a = np.array([1.0, 1.0, 0.0, 1.0])
    lower = np.array([-np.inf, -1.0, -np.inf, -np.inf])
    upper = np.array([np.inf, 0.5, 2.0, np.inf])
    w = np.array([0.5, 0.25, 1.0, -1.0])
    # coordinate 0 reaches zero at length 0.25, 1 its upper bound at 0.5, 2 (no kink) its
    # bound at 0.5, 3 moves away from zero
    direction = np.array([-2.0, 0.5, 2.0, -1.0])
    length, step = _face.longest_step_on_face(w, direction, 1.0, a, lower, upper)
    assert length == 0.25
    assert w[0] + step[0] == 0.0
    np.testing.assert_allclose(step[1:], 0.25 * direction[1:])
    direction[0] = 0.0
    length, step = _face.longest_step_on_face(w, direction, 1.0, a, lower, upper)
    assert length == 0.5
    assert w[1] + step[1] == 0.5 and w[2] + step[2] == 2.0
    # an unbounded descent direction with nothing to stop it is refused
    free = np.full(4, np.inf)
    assert _face.longest_step_on_face(w, direction, np.inf, 0.0 * a, -free, free)[0] == 0.0


def test_newton_direction_on_a_singular_face():
    basis = np.array([[1.0], [1.0]]) / np.sqrt(2)
    hessian = basis @ basis.T  # singular: rank one
    # a gradient in the range: the minimal-norm Newton step, of length 1
    grad = np.array([1.0, 1.0])
    direction, longest = newton_direction(hessian, grad)
    assert longest == 1.0
    np.testing.assert_allclose(hessian @ direction, -grad, atol=1e-12)
    # a gradient with a null-space part: the objective decreases without bound along it
    grad = np.array([1.0, -1.0])
    direction, longest = newton_direction(hessian, grad)
    assert longest == np.inf
    np.testing.assert_allclose(direction, [-1.0, 1.0], atol=1e-12)


# ------------------------------------------------------------------ prox-Newton faces
SMOOTH = {
    "logistic": (Logistic, lambda y: np.where(y > np.median(y), 1.0, -1.0)),
    "poisson": (Poisson, lambda y: np.floor(np.exp(0.3 * (y - y.mean())))),
}


def smooth_problem(name, seed=1):
    X, y = linked_markers(n=80, p=200, seed=seed)
    datafit, target = SMOOTH[name]
    return X, target(y), datafit()


def count_calls(monkeypatch, method):
    """Spy on ``ProxNewtonState.<method>``: the list of its return values."""
    calls = []
    original = getattr(ProxNewtonState, method)

    def spy(self, *args):
        calls.append(original(self, *args))
        return calls[-1]

    monkeypatch.setattr(ProxNewtonState, method, spy)
    return calls


@pytest.mark.parametrize("datafit_name", sorted(SMOOTH))
@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_prox_newton_face_steps_reach_certified_optimum(datafit_name, name, fit_intercept):
    # (face steps run in 30 of these 40 fits: all but the positive ones and one elastic net)
    X, y, datafit = smooth_problem(datafit_name)
    largest = alpha_max(X, y, datafit, L1(1.0), fit_intercept=fit_intercept)
    penalty = PENALTIES[name](1e-3 * largest, X.shape[1])
    fits = []
    for design in (X, sp.csc_matrix(X)):
        res = solve(design, y, datafit, penalty, fit_intercept=fit_intercept, tol=1e-9,
                    max_iter=200)
        gap, rel = duality_gap(design, y, datafit, penalty, res.coef, res.intercept,
                               fit_intercept=fit_intercept)
        assert rel <= 1e-9
        lower, upper = penalty.box(X.shape[1])
        assert np.all(res.coef >= lower) and np.all(res.coef <= upper)
        fits.append((res.primal, gap))
    (dense, dense_gap), (sparse, sparse_gap) = fits
    # both within their gap of P* (up to rounding)
    assert abs(dense - sparse) <= dense_gap + sparse_gap + 1e-12 * abs(dense)


def test_prox_newton_face_steps_replace_stalling_models(monkeypatch):
    """Nearly separable classes on linked markers: the models' coordinate descent
    stalls, the face steps finish the fit in a fraction of the Newton iterations."""
    X, y, datafit = smooth_problem("logistic")
    alpha = 1e-3 * alpha_max(X, y, datafit, L1(1.0), fit_intercept=False)
    face_calls = count_calls(monkeypatch, "_face_newton_steps")
    model_epochs = count_calls(monkeypatch, "_solve_model")
    fast = solve(X, y, datafit, L1(alpha), fit_intercept=False, tol=1e-9, max_iter=200)
    assert face_calls and fast.relative_gap <= 1e-9
    fast_epochs = sum(model_epochs)
    monkeypatch.setattr(_face, "MAX_FACE_SIZE", 0)
    face_calls.clear()
    model_epochs.clear()
    slow = solve(X, y, datafit, L1(alpha), fit_intercept=False, tol=1e-9, max_iter=200)
    assert not face_calls and slow.relative_gap <= 1e-9
    assert sum(model_epochs) > 2 * fast_epochs  # (measured: 630 against 188 epochs)


def test_single_blas_thread_holds_until_the_last_user_leaves():
    """Overlapping uses in one thread share the limit: the first to leave must not lift
    it under the other; the last restores the thread counts found on entry."""
    from threadpoolctl import threadpool_info
    from sksafe.solvers._linalg import single_blas_thread

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    if not before:
        pytest.skip("no BLAS library seen by threadpoolctl")
    first, second = single_blas_thread(), single_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert all(n == 1 for n in blas_threads())
    second.__exit__(None, None, None)
    assert blas_threads() == before


def test_single_blas_thread_limits_a_worker_thread():
    """In a worker thread, after the main thread has used the limit, BLAS runs on one
    thread too (OpenBLAS's process-wide setter did not reach such a thread)."""
    import threading
    from threadpoolctl import threadpool_info
    from sksafe.solvers._linalg import single_blas_thread

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    if not blas_threads():
        pytest.skip("no BLAS library seen by threadpoolctl")
    with single_blas_thread():
        pass
    seen = []

    def work():
        with single_blas_thread():
            seen.extend(blas_threads())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen and all(n == 1 for n in seen)


def test_single_blas_thread_without_a_local_setter():
    """BLAS libraries without ``openblas_set_num_threads_local`` (MKL, older OpenBLAS)
    are limited through threadpoolctl: run in a fresh thread with every library
    treated as such one."""
    import threading
    from threadpoolctl import ThreadpoolController, threadpool_info
    from sksafe.solvers import _linalg

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    seen = {}

    def work():
        controller = ThreadpoolController()
        state = _linalg._BLAS_LIMIT  # this thread's state, set up by hand
        state.controller, state.local_setters = controller, []
        state.others = [lib.filepath for lib in controller.lib_controllers
                        if lib.user_api == "blas"]
        state.depth, state.saved, state.limiter = 0, [], None
        seen["before"] = blas_threads()
        with _linalg.single_blas_thread():
            seen["inside"] = blas_threads()
        seen["after"] = blas_threads()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if not seen["before"]:
        pytest.skip("no BLAS library seen by threadpoolctl")
    assert all(n == 1 for n in seen["inside"])
    assert seen["after"] == seen["before"]


# ------------------------------------------------------------- certifying face steps
def test_csc_weighted_gram_matches_the_dense_product():
    rng = np.random.default_rng(3)
    X = sp.random(60, 25, density=0.2, format="lil", random_state=4)
    X[5] = 0.0  # an empty row
    X = X.tocsc()
    weights = rng.random(60)
    weights[:7] = 0.0
    cols = np.array([9, 2, 17, 3, 24, 11, 0])  # any order, as a face's positions
    for data in (X, X.astype(np.float32)):
        dense = data.toarray().astype(np.float64)[:, cols]
        expected = dense.T @ (weights[:, None] * dense)
        gram = csc_weighted_gram(data.data, data.indices, data.indptr, cols, weights, 60)
        np.testing.assert_allclose(gram, expected, rtol=1e-12, atol=1e-14)
        rows = np.count_nonzero(dense, axis=1)
        assert csc_row_pairs(data.indices, data.indptr, cols, 60) == np.sum(rows * (rows + 1) // 2)


def sparse_text_problem(seed=0):
    """Word-count-like sparse columns of skewed frequencies, labels from a sparse model."""
    rng = np.random.default_rng(seed)
    n, p = 600, 400
    frequency = rng.pareto(1.5, p) + 0.01
    X = sp.random(n, p, density=0.04, format="csc", random_state=seed,
                  data_rvs=lambda k: rng.poisson(2.0, k) + 1.0)
    X = (X @ sp.diags(np.minimum(frequency, 5.0))).tocsc()
    w = np.zeros(p)
    w[rng.choice(p, 30, replace=False)] = rng.normal(size=30)
    y = np.where(X @ w + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_settling_face_step_ends_a_warm_started_fit(fit_intercept, monkeypatch):
    """Along a path, one face Newton step after the first model brings the point close
    enough to the optimum for its residual to certify the fit: fewer models than
    without it, and the certificate holds when recomputed from scratch."""
    X, y = sparse_text_problem()
    datafit = Logistic()
    largest = alpha_max(X, y, datafit, L1(1.0), fit_intercept=fit_intercept)
    previous = solve(X, y, datafit, L1(0.05 * largest), fit_intercept=fit_intercept, tol=1e-8)
    penalty = L1(0.045 * largest)

    def warm_fit():
        return solve(X, y, datafit, penalty, fit_intercept=fit_intercept, tol=1e-8,
                     coef_init=previous.coef, intercept_init=previous.intercept,
                     dual_init=previous.dual_point,
                     dual_init_correlations=previous.dual_correlations)

    settling = []
    original = ProxNewtonState._face_newton_steps

    def spy(self, ws, max_steps, budget):
        settling.append(max_steps == 1 and budget == np.inf)
        return original(self, ws, max_steps, budget)

    monkeypatch.setattr(ProxNewtonState, "_face_newton_steps", spy)
    models = count_calls(monkeypatch, "_newton_step")
    res = warm_fit()
    assert any(settling), "no settling face step"
    assert res.relative_gap <= 1e-8
    _, rel = duality_gap(X, y, datafit, penalty, res.coef, res.intercept,
                         fit_intercept=fit_intercept)
    assert rel <= 1e-8
    with_step = len(models)
    monkeypatch.setattr(ProxNewtonState, "settling_work_ratio", 0.0)
    models.clear()
    without = warm_fit()
    assert len(models) > with_step
    assert abs(res.primal - without.primal) <= 1e-8 * res.primal_zero
    # cold fits keep to the models (settle_faces off)
    monkeypatch.setattr(ProxNewtonState, "settling_work_ratio", 1e9)
    settling.clear()
    solve(X, y, datafit, penalty, fit_intercept=fit_intercept, tol=1e-8)
    assert not any(settling)


@pytest.mark.parametrize("sparse", [False, True])
def test_face_gram_is_the_centred_weighted_product(sparse):
    rng = np.random.default_rng(7)
    X = sp.random(40, 15, density=0.3, format="csc", random_state=8)
    problem = make_problem(X if sparse else X.toarray(), np.where(rng.random(40) > 0.5, 1.0, -1.0),
                           None, Logistic(), True)
    cols = np.array([4, 0, 11, 7])
    weights = rng.random(40)
    offsets = rng.random(4)
    centred = X.toarray()[:, cols] - offsets
    expected = centred.T @ (weights[:, None] * centred)
    np.testing.assert_allclose(face_gram(problem, cols, weights, offsets), expected,
                               rtol=1e-12, atol=1e-14)


def test_settling_step_judges_each_model_once_and_only_a_settled_face():
    X, y = sparse_text_problem()
    datafit = Logistic()
    largest = alpha_max(X, y, datafit, L1(1.0), fit_intercept=False)
    coef = solve(X, y, datafit, L1(0.05 * largest), fit_intercept=False, tol=1e-8).coef
    problem = make_problem(X, y, None, datafit, False)
    a, b = L1(0.045 * largest).l1_l2_weights(X.shape[1])
    box = (np.full(X.shape[1], -np.inf), np.full(X.shape[1], np.inf))
    state = ProxNewtonState(problem, datafit, a, b, box, np.array([], dtype=int), coef, 0.0)
    state.settle_faces = True
    ws = np.arange(X.shape[1])
    free = np.flatnonzero(coef)
    face = (free, np.sign(coef[free]))

    def after_model(before):
        state._face_before_model, state._last_model_work = before, 10 ** 9

    moved = (free[: free.size // 2], face[1][: free.size // 2])  # half the face changed
    after_model(moved)
    assert not state._settling_step_due(ws)
    after_model(face)
    assert state._settling_step_due(ws)
    assert not state._settling_step_due(ws)  # no new model since
    after_model(face)
    assert not state._settling_step_due(ws)  # this face was tried
    state.settle_faces = False
    after_model((free[:1], face[1][:1]))
    assert not state._settling_step_due(ws)


def test_duplicate_csc_entries_are_summed_on_a_copy():
    X, y = sparse_text_problem()
    X = X[:, :80].tocsc()
    # the same matrix with every stored entry split in two halves (duplicate cells)
    data, indices = [], []
    for j in range(X.shape[1]):
        cells = slice(X.indptr[j], X.indptr[j + 1])
        data += [X.data[cells] / 2, X.data[cells] / 2]
        indices += [X.indices[cells], X.indices[cells]]
    doubled = sp.csc_matrix((np.concatenate(data), np.concatenate(indices), 2 * X.indptr),
                            shape=X.shape)
    assert not doubled.has_canonical_format
    stored = doubled.data.copy()
    # squares (column norms of the screening test, coordinate curvatures) count cells
    reference = make_problem(X, y, None, Logistic(), True)
    problem = make_problem(doubled, y, None, Logistic(), True)
    np.testing.assert_allclose(problem.screen_norms, reference.screen_norms, rtol=1e-12)
    np.testing.assert_allclose(problem.curvatures, reference.curvatures, rtol=1e-12)
    penalty = L1(0.05 * alpha_max(X, y, Logistic(), L1(1.0)))
    expected = solve(X, y, Logistic(), penalty, tol=1e-10)
    got = solve(doubled, y, Logistic(), penalty, tol=1e-10)
    np.testing.assert_allclose(got.coef, expected.coef, rtol=1e-7, atol=1e-9)
    assert got.primal == pytest.approx(expected.primal, rel=1e-10)
    np.testing.assert_array_equal(doubled.data, stored)  # the user's matrix is left alone
    assert doubled.nnz == 2 * X.nnz
