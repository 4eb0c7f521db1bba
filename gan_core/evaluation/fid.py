"""Frechet distance and KID over features; classifier-FID/KID on digit images.

classifier-FID is the Frechet distance (Heusel et al. 2017, eq. 6) between
Gaussians fitted to the penultimate features of *our small digit classifier*
(classifier.py), not of Inception-v3. It is NOT Inception FID: its scale,
its feature space and its sensitivity are different, so it must never be
compared with published (Inception) FID figures; it only ranks our own runs
against each other and against real data. The same holds for classifier-KID.

Standard Inception FID/KID use the FID Inception-v3 of inception.py, with the
standard weights given as a local file (checksum verified); nothing is
downloaded.

Both metrics depend on the sample count (classifier-FID of real against real
digits: 6.4 at 500, 3.2 at 1,000, 1.4 at 2,000), so every result carries its n
and its feature space, and runs are compared at one n only. KID follows
Binkowski et al. 2018: 100 subsets of 1,000; with fewer samples it refuses
unless a smaller subset size is asked for explicitly, and its spread is the
population standard deviation over subsets (ddof 0, as the references).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from gan_core.evaluation.features import check_finite, features_once
from gan_core.evaluation.inception_weights import (
    STANDARD_SHA256,
    InceptionUnavailable,  # noqa: F401 - raised through here (cli.py)
)

KID_SUBSETS = 100  # Binkowski et al. 2018, section 4: 100 subsets ...
KID_SUBSET_SIZE = 1000  # ... of 1,000 samples each.


def feature_stats(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D] of features [N, D], float64."""
    if torch.is_tensor(features):
        features = features.detach().cpu().double().numpy()
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need features [N >= 2, D], got {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (eigenvalues clipped at 0)."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) (Dowson and Landau 1982).

    tr (S1 S2)^(1/2) is computed as tr (S1^(1/2) S2 S1^(1/2))^(1/2): the two
    matrices are similar, and the second is symmetric PSD, so its square root
    comes from a symmetric eigendecomposition instead of a general sqrtm that
    can turn complex or diverge on near-singular covariances.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError("the two feature sets have different dimensions")
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean
    return float(max(value, 0.0))  # rounding can leave -1e-12 for equal sets


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets [N, D].
    Raises NonFiniteFeatures when either holds NaN or infinity."""
    check_finite(real, "real"), check_finite(fake, "generated")
    return frechet_distance(*feature_stats(real), *feature_stats(fake))


@dataclass(frozen=True)
class KID:
    """Kernel distance: mean and std of the unbiased MMD^2 over subsets."""

    mean: float
    std: float
    subsets: int
    subset_size: int


def polynomial_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3 (Binkowski et al. 2018, eq. 4
    and section 4), x [m, d], y [n, d]: diagonal terms left out of the
    within-set means."""
    x, y = x.double(), y.double()
    d, m, n = x.shape[1], x.shape[0], y.shape[0]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    sum_xx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    sum_yy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return float(sum_xx + sum_yy - 2 * kxy.mean())


def kid_subset_size(n_real: int, n_fake: int) -> int:
    """The standard 1,000 when both sets have that many, else half the smaller
    set (so subsets still differ); reports say which was used."""
    n = min(n_real, n_fake)
    return KID_SUBSET_SIZE if n >= KID_SUBSET_SIZE else max(2, n // 2)


def kid_from_features(
    real: torch.Tensor,
    fake: torch.Tensor,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = 0,
) -> KID:
    """KID over feature sets [N, D]: MMD^2 averaged over random subsets (drawn
    without replacement within a subset; seeded); std over subsets with ddof 0.

    Raises ValueError when either set is smaller than ``subset_size`` (a
    silent shrink would make every subset the whole set and the spread 0) and
    NonFiniteFeatures for NaN or infinite features.
    """
    check_finite(real, "real"), check_finite(fake, "generated")
    size = subset_size
    if size < 2:
        raise ValueError(f"KID subsets need at least 2 samples (got {size})")
    if size > min(len(real), len(fake)):
        raise ValueError(
            f"KID subsets of {size} need at least {size} real and {size} generated "
            f"samples (got {len(real)} and {len(fake)}): draw more samples or ask "
            "for a smaller subset size"
        )
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        r = real[torch.randperm(len(real), generator=gen)[:size]]
        f = fake[torch.randperm(len(fake), generator=gen)[:size]]
        values.append(polynomial_mmd2(r, f))
    t = torch.tensor(values, dtype=torch.float64)
    std = float(t.std(correction=0))
    return KID(float(t.mean()), std, subsets, size)


# -- classifier-FID / KID on images ---------------------------------------------


@dataclass(frozen=True)
class FeatureScores:
    """classifier-FID and classifier-KID of generated against real images."""

    classifier_fid: float
    classifier_kid: float
    classifier_kid_std: float
    n_real: int
    n_fake: int
    classifier: str  # "mnist" or "digits": whose features.
    kid_subset_size: int = KID_SUBSET_SIZE
    kid_subsets: int = KID_SUBSETS
    note: str = "classifier-FID/KID: not Inception FID; never compare with papers"

    def to_dict(self) -> dict:
        return asdict(self)


def classifier_features(images: torch.Tensor, dataset: str = "mnist", device="cpu"):
    """Penultimate features [N, 128] of the ``dataset`` digit classifier."""
    from gan_core.evaluation.classifier import get_classifier

    return get_classifier(dataset, device).features(images)


def classifier_fid(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    dataset: str = "mnist",
    device="cpu",
) -> float:
    """classifier-FID (NOT Inception FID) of images [N, C, H, W] in [-1, 1]."""
    real = classifier_features(real_images, dataset, device)
    fake = classifier_features(fake_images, dataset, device)
    return fid_from_features(real, fake)


def classifier_kid(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    dataset: str = "mnist",
    device="cpu",
) -> KID:
    """classifier-KID (NOT Inception KID) of images [N, C, H, W] in [-1, 1]."""
    real = classifier_features(real_images, dataset, device)
    fake = classifier_features(fake_images, dataset, device)
    return kid_from_features(
        real, fake, subset_size=kid_subset_size(len(real), len(fake))
    )


def classifier_scores(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    dataset: str = "mnist",
    device="cpu",
) -> FeatureScores:
    """Both classifier-FID and classifier-KID from one pass of features."""
    real, fake = features_once(
        real_images,
        fake_images,
        lambda x: classifier_features(x, dataset, device),
    )
    kid = kid_from_features(
        real, fake, subset_size=kid_subset_size(len(real), len(fake))
    )
    return FeatureScores(
        classifier_fid=fid_from_features(real, fake),
        classifier_kid=kid.mean,
        classifier_kid_std=kid.std,
        n_real=len(real),
        n_fake=len(fake),
        classifier=dataset,
        kid_subset_size=kid.subset_size,
        kid_subsets=kid.subsets,
    )


# -- standard Inception FID / KID (optional) ------------------------------------


INCEPTION_FEATURES = "Inception-v3 pool3 features (2048-d, the FID network)"


def inception_scores(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    weights_path: str | Path,
    device="cpu",
    sha256: str = STANDARD_SHA256,
) -> dict:
    """Standard FID and KID over the FID Inception-v3's pool3 features
    (inception.py), loaded from a local file; nothing is downloaded. Each
    image goes through Inception once: FID and KID share the features.

    Images [N, C, H, W] in [-1, 1] (gray is repeated to RGB). Returns {"fid",
    "kid", "kid_std", "kid_subset_size", "n_real", "n_fake", "features"}.
    Raises InceptionUnavailable when the weights file does not exist or is not
    the standard one (``sha256``).
    """
    extract = inception_extractor(weights_path, device, sha256)
    return scores_from_extractor(real_images, fake_images, extract, INCEPTION_FEATURES)


def scores_from_extractor(real_images, fake_images, extract, features: str) -> dict:
    """FID and KID of images through ``extract`` (images -> [N, D]), which
    sees every image once."""
    real, fake = features_once(real_images, fake_images, extract)
    kid = kid_from_features(
        real, fake, subset_size=kid_subset_size(len(real), len(fake))
    )
    return {
        "fid": fid_from_features(real, fake),
        "kid": kid.mean,
        "kid_std": kid.std,
        "kid_subset_size": kid.subset_size,
        "n_real": len(real),
        "n_fake": len(fake),
        "features": features,
    }


def inception_extractor(
    weights_path: str | Path, device="cpu", sha256: str = STANDARD_SHA256
):
    """images [N, C, H, W] in [-1, 1] -> Inception-v3 pool3 features [N, 2048]
    (float64), from the weights file once its checksum matches ``sha256``."""
    from gan_core.evaluation.inception import fid_inception_extractor

    return fid_inception_extractor(weights_path, sha256, device)
