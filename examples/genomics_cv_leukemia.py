"""Genomics CV workflow on the built-in Golub leukemia microarray: select genes, test them.

Golub's original split: the 38 samples of the 1999 training set choose the model, the
other 34 only test it. On the training set:

1. ``SafeScreeningLogisticRegressionCV`` runs the whole elastic-net logistic path
   (l1_ratio 0.5 and 1) on each of 5 stratified folds (warm starts, sequential Gap
   Safe screening) and picks the pair with the best held-out log-loss; it also reports
   the one-standard-error alpha (glmnet's ``lambda.1se``), which on 38 samples is a
   much sparser but clearly worse model (set ``alpha_rule="1se"`` to use it);
2. ``StabilitySelection`` (complementary pairs) tells which of the selected genes are
   stable under resampling.

The script prints the selected genes, the held-out accuracy on Golub's test set, and
writes a figure (CV curve, coefficient path, screening, stability) when matplotlib is
installed.

Run: ``python examples/genomics_cv_leukemia.py``
"""
import time

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksafe import SafeScreeningLogisticRegression, SafeScreeningLogisticRegressionCV
from sksafe import StabilitySelection
from sksafe.datasets import load_leukemia
from sksafe.paths import logistic_path

data = load_leukemia()
train, test = data.is_train, ~data.is_train
genes = data.feature_names
print(f"Golub leukemia: {train.sum()} training and {test.sum()} test samples, "
      f"{genes.size} genes (ALL vs AML)")

start = time.perf_counter()
model = make_pipeline(StandardScaler(), SafeScreeningLogisticRegressionCV(
    l1_ratios=(0.5, 1.0), n_alphas=50, eps=1e-2, cv=5, tol=1e-6))
model.fit(data.data[train], data.target[train])
cv = model[-1]
chosen = np.flatnonzero(cv.coef_.ravel())
print(f"\n5-fold CV over 2 l1_ratios x 50 alphas in {time.perf_counter() - start:.2f} s: "
      f"l1_ratio = {cv.l1_ratio_}, alpha_min = {cv.alpha_min_:.4g} (chosen), alpha_1se = "
      f"{cv.alpha_1se_:.4g}; largest fold duality gap {cv.cv_dual_gaps_.max():.1e}")
print(f"{chosen.size} genes selected; the 10 largest coefficients: "
      f"{', '.join(genes[np.argsort(-np.abs(cv.coef_.ravel()))[:10]])}")
accuracy = model.score(data.data[test], data.target[test])
print(f"held-out accuracy on Golub's {test.sum()} test samples: {accuracy:.3f}")

start = time.perf_counter()
stability = make_pipeline(StandardScaler(), StabilitySelection(
    SafeScreeningLogisticRegression(l1_ratio=0.5), n_subsamples=100, threshold=0.6,
    random_state=0))
stability.fit(data.data[train], data.target[train])
selector = stability[-1]
stable = np.argsort(-selector.stability_scores_)[:10]
print(f"\nStability selection (elastic-net logistic, 50 complementary pairs) in "
      f"{time.perf_counter() - start:.1f} s: {selector.get_support().sum()} genes with "
      f"selection probability >= {selector.threshold}; the 10 most stable:")
for j in stable:
    mark = "  (selected by CV)" if j in chosen else ""
    print(f"  {genes[j]:>14s}  {selector.stability_scores_[j]:.2f}{mark}")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("\n(matplotlib is not installed: no figure)")
else:
    from sksafe.plotting import plot_cv, plot_path, plot_screening, plot_stability

    X_train = StandardScaler().fit_transform(data.data[train])
    k = [0.5, 1.0].index(cv.l1_ratio_)
    path = logistic_path(X_train, data.target[train], l1_ratio=cv.l1_ratio_,
                         alphas=cv.alphas_[k], tol=1e-6, return_result=True)
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    plot_cv(cv, ax=axes[0, 0])
    plot_path(path, ax=axes[0, 1], feature_names=genes)
    plot_screening(path, ax=axes[1, 0])
    plot_stability(selector, ax=axes[1, 1], feature_names=genes)
    fig.tight_layout()
    fig.savefig("genomics_cv_leukemia.png", dpi=100)
    print("\nfigure written to genomics_cv_leukemia.png")
