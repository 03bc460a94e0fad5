"""Lasso CV and stability selection on the riboflavin data (71 samples x 4088 genes).

Buhlmann, Kalisch & Meier (2014) use these data (log riboflavin production rate of
*Bacillus subtilis* against the log expression of 4088 genes) to illustrate that the
genes a cross-validated Lasso picks are not all stable: only a few (YOAB_at, LYSC_at,
YXLD_at in their analysis) are selected in most half-samples. This script runs
``SafeScreeningLassoCV`` (10-fold, 100 alphas, both the best and the one-standard-error
alpha), the whole path, and ``StabilitySelection`` with complementary pairs, and reports
the Meinshausen-Buhlmann bound on the expected number of false selections.

Needs the project's shared data folder (``../shared/data/regression/riboflavin.npz``
from the repository root, or the folder given as the first argument); exits cleanly
when it is absent.

Run: ``python examples/riboflavin_lasso_cv.py [DATA_DIR]``
"""
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from sksafe import SafeScreeningLassoCV, StabilitySelection
from sksafe.paths import lasso_path

data_dir = (Path(sys.argv[1]) if len(sys.argv) > 1
            else Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
path = data_dir / "regression" / "riboflavin.npz"
if not path.exists():
    print(f"data not found ({path}); nothing to do")
    sys.exit(0)
with np.load(path) as archive:
    X, y, genes = archive["X"], archive["y"], archive["feature_names"].astype(str)
X = StandardScaler().fit_transform(X)
print(f"riboflavin: {X.shape[0]} samples x {X.shape[1]} genes")

start = time.perf_counter()
cv = SafeScreeningLassoCV(cv=KFold(10, shuffle=True, random_state=0), tol=1e-6).fit(X, y)
elapsed = time.perf_counter() - start
print(f"\n10-fold LassoCV over 100 alphas (alpha_max to alpha_max/1000) in {elapsed:.2f} s")
for name, alpha in (("alpha_min", cv.alpha_min_), ("alpha_1se", cv.alpha_1se_)):
    k = int(np.argmin(np.abs(cv.alphas_ - alpha)))
    print(f"  {name} = {alpha:.4g}: CV mean squared error {cv.mse_path_[k].mean():.4f}")
n_genes = np.count_nonzero(cv.coef_)
top = np.argsort(-np.abs(cv.coef_))[:8]
print(f"model at alpha_min: {n_genes} genes; largest coefficients: "
      f"{', '.join(f'{genes[j]} ({cv.coef_[j]:+.3f})' for j in top)}")

start = time.perf_counter()
full = lasso_path(X, y - y.mean(), tol=1e-6, return_result=True)
print(f"\nwhole path on all samples (100 alphas) in {time.perf_counter() - start:.2f} s, "
      f"largest relative duality gap {full.dual_gaps.max():.1e}; at each alpha Gap Safe "
      f"screening removed on average {full.n_screened.mean() / X.shape[1]:.0%} of the genes")

start = time.perf_counter()
selector = StabilitySelection(n_subsamples=100, threshold=0.55, random_state=0).fit(X, y)
print(f"\nstability selection (50 complementary pairs of half-samples, 25 alphas) in "
      f"{time.perf_counter() - start:.1f} s; the most stable genes:")
for j in np.argsort(-selector.stability_scores_)[:6]:
    print(f"  {genes[j]:>10s}  {selector.stability_scores_[j]:.2f}")
stable = np.flatnonzero(selector.get_support())
print(f"stable genes (selection probability >= {selector.threshold}): "
      f"{', '.join(f'{genes[j]} ({selector.stability_scores_[j]:.2f})' for j in stable)}")
print(f"expected number of false selections <= {selector.false_positive_bound_:.2f} "
      f"(Meinshausen-Buhlmann bound, q = {selector.average_selected_:.1f} genes per subsample)")
print(f"of these, selected by the CV Lasso: "
      f"{', '.join(genes[j] for j in stable if cv.coef_[j] != 0) or 'none'}")
