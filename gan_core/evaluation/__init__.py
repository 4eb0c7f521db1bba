"""Evaluation: mode coverage on 2D mixtures, classifier-FID/KID, stacked-MNIST
modes and conditional accuracy, with the small digit classifiers they use;
precision/recall and class agreement on any image data (quality.py), in the
digit classifier's, Inception's or the dataset's own net's feature space.

classifier-FID is computed in the feature space of a small classifier trained
here on builtin:mnist (or builtin:digits); it is not Inception FID and must
never be compared with published Inception figures.

``gan_core.evaluation.precision_recall`` is the module (its function of the
same name is not exported here: it would shadow the module for importers).
"""

from gan_core.evaluation.conditional import class_accuracy
from gan_core.evaluation.fid import (
    KID,
    FeatureScores,
    classifier_fid,
    classifier_kid,
    classifier_scores,
    fid_from_features,
    frechet_distance,
    kid_from_features,
)
from gan_core.evaluation.points import ModeReport, mode_coverage
from gan_core.evaluation.precision_recall import PrecisionRecall
from gan_core.evaluation.stacked import make_stacked_mnist, stacked_mnist_modes

__all__ = [
    "KID",
    "FeatureScores",
    "ModeReport",
    "PrecisionRecall",
    "class_accuracy",
    "classifier_fid",
    "classifier_kid",
    "classifier_scores",
    "fid_from_features",
    "frechet_distance",
    "kid_from_features",
    "make_stacked_mnist",
    "mode_coverage",
    "stacked_mnist_modes",
]
