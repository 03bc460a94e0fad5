"""Gap Safe screening never removes a feature of the solution.

For each problem, a reference is solved *without* screening to relative duality gap
1e-12, then the same problem is solved with dynamic Gap Safe screening. Every feature
stamped ``screened_at >= 1`` (removed during the solve) must be zero in the reference,
and both solutions must agree. 300+ small random problems cover dense and sparse
designs, n < p and n > p, correlated / duplicated / badly scaled columns, intercept
or not, sample weights (zeros included), Quadratic, Logistic and Huber datafits with L1,
elastic-net and weighted-L1 penalties, and positivity constraints; the same checks run
on the real data sets of ``../shared/data``.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from conftest import DATA_DIR, HUBER_DELTA, alpha_max_numpy, data_dir_or_skip, duality_gap
from sksafe.datafits import Huber, Logistic, Quadratic
from sksafe.penalties import L1, ElasticNet, WeightedL1
from sksafe.solvers import solve

REF_TOL = 1e-12
ZERO_THRESHOLD = 1e-10  # |w_ref_j| <= 1e-10 max|w_ref| counts as zero

FAMILIES = [
    ("quadratic", "l1"),
    ("quadratic", "enet"),
    ("logistic", "l1"),
    ("quadratic", "weighted_l1"),
    ("quadratic", "l1_positive"),
    ("logistic", "enet"),
    ("logistic", "weighted_l1"),
    ("quadratic", "enet_positive"),
    ("logistic", "l1_positive"),
    ("huber", "l1"),
    ("huber", "enet"),
]
STRUCTURES = ["iid", "correlated", "duplicated", "unscaled"]
N_RANDOM_PROBLEMS = 352  # 4 per (family, structure, storage)


def _design(rng, n, p, structure, sparse):
    if sparse:
        density = rng.uniform(0.08, 0.35)
        X = sp.random(n, p, density=density, format="csc", random_state=rng,
                      data_rvs=rng.standard_normal)
        X = X.toarray()  # structure is applied densely, converted back below
    else:
        X = rng.standard_normal((n, p))
    if structure == "correlated":
        factors = rng.standard_normal((n, 2))
        loadings = rng.uniform(1.0, 3.0, size=(2, p))
        mask = X != 0 if sparse else np.ones_like(X, dtype=bool)
        X = np.where(mask, X + factors @ loadings, 0.0)
    elif structure == "duplicated":
        n_dup = max(1, p // 5)
        src = rng.choice(p, size=n_dup, replace=True)
        dst = rng.choice(p, size=n_dup, replace=False)
        for s_col, d_col in zip(src, dst):
            X[:, d_col] = X[:, s_col]
    elif structure == "unscaled":
        X = X * 10.0 ** rng.uniform(-3, 3, size=p)
    return X


def random_problem(seed):
    """A small random problem; returns a dict describing it."""
    rng = np.random.default_rng(seed)
    loss, pen = FAMILIES[seed % len(FAMILIES)]
    structure = STRUCTURES[(seed // len(FAMILIES)) % len(STRUCTURES)]
    sparse = bool((seed // (len(FAMILIES) * len(STRUCTURES))) % 2)
    wide = bool(rng.integers(2))
    if wide:
        n = int(rng.integers(15, 61))
        p = int(rng.integers(n + 5, 201))
    else:
        n = int(rng.integers(30, 61))
        p = int(rng.integers(3, min(n, 40)))
    X = _design(rng, n, p, structure, sparse)
    fit_intercept = bool(rng.integers(2))
    weight_kind = rng.choice(["none", "positive", "with_zeros", "integers"])
    sample_weight = None
    if weight_kind == "positive":
        sample_weight = rng.uniform(0.1, 3.0, size=n)
    elif weight_kind == "with_zeros":
        sample_weight = rng.uniform(0.1, 3.0, size=n)
        sample_weight[rng.choice(n, size=max(1, n // 5), replace=False)] = 0.0
    elif weight_kind == "integers":
        sample_weight = rng.integers(0, 4, size=n).astype(float)
        sample_weight[0] = max(sample_weight[0], 1.0)

    k = min(5, p)
    w_true = np.zeros(p)
    support = rng.choice(p, size=k, replace=False)
    col_scale = np.sqrt(np.mean(X[:, support] ** 2, axis=0)) + 1e-12
    w_true[support] = rng.choice([-1, 1], size=k) * rng.uniform(0.5, 2, size=k) / col_scale
    if "positive" in pen:
        w_true[support] = np.abs(w_true[support])
    z = X @ w_true + 0.5
    if loss == "quadratic":
        y = z + 0.3 * rng.standard_normal(n)
    elif loss == "huber":  # a tenth of gross outliers, in the loss's linear zone
        y = z + 0.3 * rng.standard_normal(n)
        y[rng.choice(n, size=max(1, n // 10), replace=False)] += 10 * HUBER_DELTA
    else:
        y = np.where(z + rng.logistic(size=n) > 0, 1.0, -1.0)
        if sample_weight is not None:  # both classes need a positive weight
            for label in (-1.0, 1.0):
                idx = np.flatnonzero(y == label)
                if idx.size == 0:
                    y[0] = label
                    idx = np.array([0])
                if not np.any(sample_weight[idx] > 0):
                    sample_weight[idx[0]] = 1.0
        if np.all(y == y[0]):
            y[0] = -y[0]

    positive = "positive" in pen
    l1_ratio = float(rng.uniform(0.3, 0.95)) if "enet" in pen else 1.0
    weights = None
    if pen == "weighted_l1":
        weights = rng.uniform(0.3, 2.0, size=p)
        weights[rng.choice(p, size=max(1, min(3, p // 10)), replace=False)] = 0.0
    amax = alpha_max_numpy(X, y, loss=loss, sample_weight=sample_weight,
                           fit_intercept=fit_intercept, positive=positive, l1_ratio=l1_ratio)
    if pen == "weighted_l1":
        amax = amax / np.min(weights[weights > 0])
    alpha = amax * 10.0 ** rng.uniform(np.log10(0.03), np.log10(0.7))
    if pen in ("l1", "l1_positive"):
        penalty = L1(alpha=alpha, positive=positive)
    elif pen in ("enet", "enet_positive"):
        penalty = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive)
    else:
        penalty = WeightedL1(alpha=alpha, weights=weights)
    if sparse:
        X = sp.csc_matrix(X) if seed % 3 else sp.csr_matrix(X)
    datafit = {"quadratic": Quadratic(), "logistic": Logistic(),
               "huber": Huber(delta=HUBER_DELTA)}[loss]
    return dict(X=X, y=y, loss=loss, datafit=datafit,
                penalty=penalty, fit_intercept=fit_intercept, sample_weight=sample_weight,
                positive=positive, l1_ratio=l1_ratio, weights=weights, alpha=alpha,
                unique=(structure != "duplicated" or l1_ratio < 1.0),
                description=(f"seed={seed} {loss}+{pen} {structure} "
                             f"{'sparse' if sparse else 'dense'} n={n} p={p} "
                             f"intercept={fit_intercept} weights={weight_kind} "
                             f"alpha/alpha_max={alpha / amax:.3f}"))


def _solve(problem, screening, tol=REF_TOL, max_iter=200):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return solve(problem["X"], problem["y"], problem["datafit"], problem["penalty"],
                     sample_weight=problem["sample_weight"],
                     fit_intercept=problem["fit_intercept"], tol=tol, max_iter=max_iter,
                     screening=screening)


def _kkt_margin(problem, ref, j):
    """``a_j - |X_j^T theta_ref|`` at the reference dual point (> 0 means inactive)."""
    X = problem["X"]
    col = np.asarray(X[:, [j]].toarray() if sp.issparse(X) else X[:, j]).ravel()
    a, _ = problem["penalty"].l1_l2_weights(X.shape[1])
    theta = ref.dual_point
    if problem["fit_intercept"]:
        col = col - col.mean()
    corr = col @ theta
    return a[j] - (corr if problem["positive"] else abs(corr))


def _honest_gap(problem, result):
    """Absolute and relative duality gaps of a result, recomputed independently."""
    X = problem["X"]
    a, b = problem["penalty"].l1_l2_weights(X.shape[1])
    rel, gap, primal, _, _ = duality_gap(
        X, problem["y"], result.coef, result.intercept, loss=problem["loss"], a=a, b=b,
        positive=problem["positive"], sample_weight=problem["sample_weight"],
        fit_intercept=problem["fit_intercept"], dual_point=result.dual_point)
    return rel, gap, primal


def check_screening_safety(problem):
    """Reference without screening vs screened solve: safety and agreement."""
    desc = problem["description"]
    X = problem["X"]
    ref = _solve(problem, screening=False)
    ref_rel, ref_gap, _ = _honest_gap(problem, ref)
    assert ref.relative_gap <= 1e-10 and ref_rel <= 1e-10, (
        f"reference (no screening) did not converge: reported relative gap "
        f"{ref.relative_gap:.2e}, recomputed {ref_rel:.2e}: {desc}")
    res = _solve(problem, screening=True)

    w_ref, w = ref.coef, res.coef
    scale = np.max(np.abs(w_ref))
    during = np.flatnonzero(res.screened_at >= 1)
    before = np.flatnonzero(res.screened_at == 0)
    bad = [j for j in during if abs(w_ref[j]) > ZERO_THRESHOLD * scale]
    assert not bad, (
        f"Gap Safe screening removed features of the solution: {desc}\n" + "\n".join(
            f"  feature {j}: screened at iteration {res.screened_at[j]}, w_ref={w_ref[j]:.6e} "
            f"(max |w_ref|={scale:.3e}), KKT margin at reference "
            f"{_kkt_margin(problem, ref, j):.3e}, screened-solve final rel. gap "
            f"{res.relative_gap:.2e}" for j in bad))
    # screened_at == 0 marks zero (or constant, with an intercept) columns only
    assert np.all(w_ref[before] == 0.0), desc
    assert np.all(w[res.screened_at >= 0] == 0.0), desc

    res_rel, res_gap, _ = _honest_gap(problem, res)
    assert res.relative_gap <= 1e-9 and res_rel <= 1e-9, (
        f"screened solve stopped at relative gap {res.relative_gap:.3e} (recomputed "
        f"{res_rel:.3e}; reference {ref.relative_gap:.1e}): {desc}")
    # both objectives equal to the precision of the gaps
    assert abs(res.primal - ref.primal) <= 2e-9 * ref.primal_zero, desc
    # rigorous bounds: P(w) - P* <= gap, and P - P* >= (mu / 2) ||w - w*||^2 when P is
    # mu-strongly convex (elastic net: mu = alpha (1 - l1_ratio)); for the quadratic loss
    # P - P* >= ||X w + b - X w* - b*||_s^2 / 2 whatever the penalty.
    floor = 1e-14 * ref.primal_zero  # rounding level of a recomputed gap
    slack = np.sqrt(2 * max(ref_gap, floor)) + np.sqrt(2 * max(res_gap, floor))
    _, b_l2 = problem["penalty"].l1_l2_weights(X.shape[1])
    mu = float(np.min(b_l2))
    coef_atol = 1e-6 * max(scale, 1e-12)
    if mu > 0:
        coef_atol = max(coef_atol, 1.01 * slack / np.sqrt(mu))
    if problem["loss"] == "quadratic":
        s = problem["sample_weight"]
        s = np.full(X.shape[0], 1 / X.shape[0]) if s is None else s / np.sum(s)
        diff = np.asarray(X @ (w - w_ref)).ravel() + (res.intercept - ref.intercept)
        assert np.sqrt(s @ diff ** 2) <= 1.01 * slack + 1e-12 * scale, desc
    if problem["unique"]:
        np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=coef_atol, err_msg=desc)
        np.testing.assert_allclose(res.intercept, ref.intercept, rtol=1e-5,
                                   atol=max(1e-6 * max(1.0, abs(ref.intercept)), coef_atol),
                                   err_msg=desc)
    else:  # duplicated columns + pure L1: w is not unique, X w + b is
        pred, pred_ref = X @ w + res.intercept, X @ w_ref + ref.intercept
        np.testing.assert_allclose(pred, pred_ref, rtol=1e-5,
                                   atol=1e-5 * max(np.max(np.abs(pred_ref)), 1e-12),
                                   err_msg=desc)
    return ref, res


@pytest.mark.parametrize("seed", range(N_RANDOM_PROBLEMS))
def test_screening_is_safe_random(seed):
    check_screening_safety(random_problem(seed))


def test_random_problems_cover_every_case():
    """The generator really produces the advertised variety of problems."""
    descs = [random_problem(seed)["description"] for seed in range(N_RANDOM_PROBLEMS)]
    for token in ["quadratic+l1 ", "quadratic+enet ", "logistic+l1 ", "huber+l1 ", "huber+enet ",
                  "weighted_l1",
                  "l1_positive", "enet_positive", "correlated", "duplicated", "unscaled",
                  "iid", "sparse", "dense", "intercept=True", "intercept=False",
                  "weights=none", "weights=with_zeros", "weights=integers",
                  "weights=positive"]:
        assert any(token in d for d in descs), token
    shapes = [random_problem(seed)["X"].shape for seed in range(0, N_RANDOM_PROBLEMS, 7)]
    assert any(n < p for n, p in shapes) and any(n > p for n, p in shapes)


def test_screening_actually_screens():
    """On an easy problem, screening removes most features during the solve."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 200))
    y = X[:, :3] @ np.array([2.0, -2.0, 1.5]) + 0.1 * rng.standard_normal(50)
    alpha = 0.3 * alpha_max_numpy(X, y, loss="quadratic")
    res = solve(X, y, Quadratic(), L1(alpha), tol=1e-10, max_iter=200)
    assert np.sum(res.screened_at >= 1) >= 150
    assert res.history[-1]["n_screened"] == np.sum(res.screened_at >= 0)


# ---------------------------------------------------------------------------------------------
# real data
# ---------------------------------------------------------------------------------------------
BINARY_EXPRESSION = ["alon", "golub", "west", "singh", "shipp", "borovecki", "gravier",
                     "pomeroy", "subramanian", "singh_test", "prostate_ge",
                     "colon_gglasso_bspline"]
MULTICLASS_EXPRESSION = ["christensen", "khan", "sorlie", "su", "glioma", "tox_171",
                         "lymphoma_alizadeh", "nci60"]
REGRESSION = ["riboflavin", "eyedata_scheetz", "trim32_scheetz", "bardet"]
LIBSVM = ["leu", "leu.t", "colon-cancer", "duke"]
TEXT_BINARY = ["basehock", "pcmac", "relathe"]


def _standardise(X):
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    return (X - X.mean(axis=0)) / std


def _load_npz(relpath):
    path = data_dir_or_skip() / relpath
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return np.load(path, allow_pickle=False)


def _real_problem(X, y, loss, factor, fit_intercept=True, l1_ratio=1.0, name=""):
    amax = alpha_max_numpy(X, y, loss=loss, fit_intercept=fit_intercept, l1_ratio=l1_ratio)
    alpha = factor * amax
    penalty = L1(alpha) if l1_ratio == 1.0 else ElasticNet(alpha, l1_ratio=l1_ratio)
    datafit = {"quadratic": Quadratic(), "logistic": Logistic(),
               "huber": Huber(delta=HUBER_DELTA)}[loss]
    return dict(X=X, y=y, loss=loss, datafit=datafit,
                penalty=penalty, fit_intercept=fit_intercept, sample_weight=None,
                positive=False, l1_ratio=l1_ratio, weights=None, alpha=alpha, unique=True,
                description=f"{name} {loss} n={X.shape[0]} p={X.shape[1]} "
                            f"alpha=alpha_max*{factor}")


@pytest.mark.parametrize("name", BINARY_EXPRESSION)
def test_screening_is_safe_expression_logistic(name):
    data = _load_npz(f"expression/{name}.npz")
    X = _standardise(data["X"])
    y = np.where(np.asarray(data["y"]) == 1, 1.0, -1.0)
    ref, res = check_screening_safety(_real_problem(X, y, "logistic", 0.1, name=name))
    assert np.sum(res.screened_at >= 1) > 0, "nothing screened on a p >> n problem"


@pytest.mark.parametrize("name", MULTICLASS_EXPRESSION)
def test_screening_is_safe_expression_lasso_on_class_codes(name):
    """Multiclass expression sets: Lasso on the first-vs-rest indicator."""
    data = _load_npz(f"expression/{name}.npz")
    X = _standardise(data["X"])
    y = (np.asarray(data["y"]) == 0).astype(np.float64)
    check_screening_safety(_real_problem(X, y, "quadratic", 0.1, name=name))


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_screening_is_safe_regression(name, l1_ratio):
    data = _load_npz(f"regression/{name}.npz")
    X = _standardise(data["X"])
    y = np.asarray(data["y"], dtype=np.float64)
    check_screening_safety(_real_problem(X, y, "quadratic", 0.1, l1_ratio=l1_ratio, name=name))


@pytest.mark.parametrize("name", REGRESSION)
def test_screening_is_safe_regression_huber(name):
    """Huber on the regression sets, ``y`` scaled so that both zones of the loss are used."""
    data = _load_npz(f"regression/{name}.npz")
    X = _standardise(data["X"])
    y = np.asarray(data["y"], dtype=np.float64)
    y = 2.0 * (y - y.mean()) / y.std()
    ref, _ = check_screening_safety(_real_problem(X, y, "huber", 0.1, name=name))
    residuals = y - X @ ref.coef - ref.intercept
    assert np.any(np.abs(residuals) > HUBER_DELTA), "no residual in the linear zone"


@pytest.mark.parametrize("name", LIBSVM)
@pytest.mark.parametrize("loss", ["logistic", "quadratic"])
def test_screening_is_safe_libsvm(name, loss):
    from sklearn.datasets import load_svmlight_file

    path = data_dir_or_skip() / "libsvm" / f"{name}.bz2"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    X, y = load_svmlight_file(str(path))
    X = sp.csc_matrix(X)  # sparse storage of an (essentially dense) standardised design
    y = np.where(y > 0, 1.0, -1.0)
    check_screening_safety(_real_problem(X, y, loss, 0.1, name=name))


@pytest.mark.parametrize("name", TEXT_BINARY)
def test_screening_is_safe_text_sparse_logistic(name):
    data = _load_npz(f"text/{name}.npz")
    X = sp.csc_matrix(sp.load_npz(data_dir_or_skip() / "text" / f"{name}.npz"))
    y = np.where(np.asarray(data["y"]) == 1, 1.0, -1.0)
    check_screening_safety(_real_problem(X, y, "logistic", 0.1, name=name))


def test_screening_is_safe_congress_sparse_lasso():
    data = _load_npz("text/congress109.npz")
    X = sp.csc_matrix(sp.load_npz(DATA_DIR / "text" / "congress109.npz"))
    y = np.asarray(data["y"], dtype=np.float64)
    check_screening_safety(_real_problem(X, y, "quadratic", 0.1, name="congress109"))


def test_screening_is_safe_arcene_logistic():
    data = _load_npz("misc/arcene.npz")
    X = _standardise(data["X"])
    y = np.where(np.asarray(data["y"]) == 1, 1.0, -1.0)
    check_screening_safety(_real_problem(X, y, "logistic", 0.2, name="arcene"))


def test_screening_is_safe_wheat_genotypes_lasso():
    data = _load_npz("genotypes/wheat_bglr.npz")
    X = np.asarray(data["X"], dtype=np.float64)  # raw 0/1/2-type codes, unstandardised
    y = np.asarray(data["y"], dtype=np.float64)
    check_screening_safety(_real_problem(X, y, "quadratic", 0.1, name="wheat_bglr"))


def test_computed_gap_radius_covers_rounding():
    """A gap at rounding level (even negative) gets the radius of the rounding bound,
    not 0: the true gap may be that large. Far below it, nothing is tested."""
    from sksafe.screening import computed_gap_radius, gap_safe_radius
    primal, n, gamma = 10.0, 50, 1.0
    floor = n * np.finfo(np.float64).eps * 2 * primal
    assert computed_gap_radius(primal, primal + 0.5 * floor, gamma, n) == pytest.approx(
        np.sqrt(2 * floor / gamma))
    assert computed_gap_radius(primal, primal, gamma, n) == pytest.approx(
        np.sqrt(2 * floor / gamma))
    assert computed_gap_radius(primal, primal - 1e-3, gamma, n) == pytest.approx(
        gap_safe_radius(1e-3, gamma))
    assert computed_gap_radius(primal, primal + 1e-6, gamma, n) is None
    assert computed_gap_radius(primal, -np.inf, gamma, n) is None


def test_screening_at_a_rounding_level_gap():
    """A fit that converges in one subproblem ends with a gap of rounding size, here
    negative (-3.6e-15 when written): it still screens, and safely."""
    from sksafe.penalties import GroupL1
    from conftest import make_regression_data
    X, y = make_regression_data(n=50, p=40, seed=11)
    alpha_max = solve(X, y, Quadratic(), GroupL1(1.0, groups=5, positive=True)).alpha_max
    penalty = GroupL1(0.2 * alpha_max, groups=5, positive=True)
    res = solve(X, y, Quadratic(), penalty, tol=1e-12)
    ref = solve(X, y, Quadratic(), penalty, tol=1e-14, screening=False)
    assert np.any(res.screened_features)
    assert np.all(ref.coef[res.screened_features] == 0.0)
