"""An uploaded image dataset, private to its owner.

Files live under MEDIA_ROOT/datasets/<id>/, named by us, never by the upload.
"""

from django.conf import settings
from django.db import models


class DatasetState(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class DatasetKind(models.TextChoices):
    IMAGES = "images"  # flat: unconditional
    CLASSES = "classes"  # one folder per class: conditional
    DOMAINS = "domains"  # A/ and B/: two domains for CycleGAN
    PAIRS = "pairs"  # paired images for pix2pix (see PairedLayout)


class PairedLayout(models.TextChoices):
    """How a paired upload holds its pairs (chosen at upload)."""

    NONE = "", "not paired"
    FOLDERS = "folders", "A/ and B/ paired by file name"
    SIDE_BY_SIDE = "side_by_side", "A and B side by side in one image"


class Dataset(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(max_length=200)
    state = models.CharField(
        max_length=20, choices=DatasetState.choices, default=DatasetState.PENDING
    )
    kind = models.CharField(max_length=20, choices=DatasetKind.choices, blank=True)
    paired_layout = models.CharField(
        max_length=20, choices=PairedLayout.choices, blank=True, default=""
    )
    error = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    image_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    classes = models.JSONField(default=dict, blank=True)  # class name -> count
    stats = models.JSONField(default=dict, blank=True)  # sizes, channels, ...
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    # Generated from a model (ganweb.datasets.synthetic): job, step, settings.
    synthetic_origin = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind or 'unprocessed'}, {self.state})"
