"""scikit-learn's estimator API conformance checks for every sksafe estimator.

``parametrize_with_checks`` runs the whole ``check_estimator`` battery (fit/predict
shapes, cloning, pickling, input validation messages, sample-weight invariances,
sparse input, n_features_in_, ...) as separate test cases; no check is expected to fail.
"""
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksafe import (MCPRegression, SafeScreeningElasticNet, SafeScreeningGroupLasso, SafeScreeningLasso,
                    SafeScreeningLogisticRegression, SafeScreeningMultiTaskElasticNet,
                    SafeScreeningMultiTaskLasso, SafeScreeningSparseGroupLasso,
                    SCADRegression, SparseCoxRegression, SparseGLM, SparseHuberRegressor,
                    SparsePoissonRegressor)
from sksafe.datafits import Cox, Huber, Logistic, Multinomial, QuadraticMultiTask
from sksafe.penalties import L1, L21, MCP, ElasticNet, EntrywiseL1, GroupL1

ESTIMATORS = [
    SafeScreeningLasso(),
    SafeScreeningElasticNet(),
    SafeScreeningLogisticRegression(),
    SafeScreeningLogisticRegression(solver="fista"),
    SparseGLM(penalty=L1(0.01)),
    SparseGLM(penalty=L1(0.01), solver="fista"),
    SparseGLM(datafit=Logistic(), penalty=ElasticNet(0.01, l1_ratio=0.9)),
    SparseHuberRegressor(),
    SparseGLM(datafit=Huber(), penalty=L1(0.01)),
    SparsePoissonRegressor(alpha=0.01),
    SafeScreeningGroupLasso(alpha=0.1),
    SafeScreeningSparseGroupLasso(alpha=0.1),
    SafeScreeningMultiTaskLasso(alpha=0.1),
    SafeScreeningMultiTaskElasticNet(alpha=0.1),
    SparseGLM(penalty=GroupL1(0.1)),
    SparseGLM(datafit=QuadraticMultiTask(), penalty=L21(0.1, l1_ratio=0.5)),
    # tight tol: the weight-equivalence checks compare two fits at 1e-7 (the default
    # tol=1e-4 certifies the objective, not seven digits of the probabilities)
    SafeScreeningLogisticRegression(multi_class="multinomial", tol=1e-10),
    SafeScreeningLogisticRegression(multi_class="multinomial", multinomial_penalty="group",
                                    tol=1e-10),
    SparseGLM(datafit=Multinomial(), penalty=EntrywiseL1(0.01), tol=1e-10),
    SparseGLM(datafit=Logistic(), penalty=GroupL1(0.01)),
    # The checks fit Cox on uncensored times (1-D y, positive_only tag). Tight tol: the
    # sample-weight checks compare a weighted fit with repeated rows to 1e-7, which holds for
    # the solutions; the iterates differ at a loose tol because the Newton model's exact
    # Hessian diagonal is not invariant to splitting a sample into copies (tests/test_cox.py).
    SparseCoxRegression(alpha=0.01, tol=1e-10),
    SparseGLM(datafit=Cox(), penalty=L1(0.01), tol=1e-10),
    # non-convex: certified by the KKT violation (no duality gap); tight tol for the
    # weight-equivalence checks, as above
    MCPRegression(alpha=0.01, tol=1e-10),
    SCADRegression(alpha=0.01, tol=1e-10),
    SparseGLM(penalty=MCP(0.01), tol=1e-10),
    SparseGLM(datafit=Logistic(), penalty=MCP(0.01), tol=1e-10),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
