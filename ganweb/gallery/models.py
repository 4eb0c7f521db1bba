"""Galleries keep playground results with the settings that made them.

A gallery is private until its owner makes a share link; a link is a long
random token that can be revoked (revoked tokens stay on record, so an old
link answers "no longer shared" rather than "not found").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Gallery(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="galleries"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def active_link(self) -> ShareLink | None:
        return self.share_links.filter(revoked_at__isnull=True).first()


class ItemKind(models.TextChoices):
    IMAGE = "image"
    GRID = "grid"
    ANIMATION = "animation"
    TRANSLATION = "translation"


class GalleryItem(models.Model):
    gallery = models.ForeignKey(Gallery, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    caption = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    # The model it came from; the item outlives the job (settings keep its name).
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Everything needed to make it again: action, family, checkpoint step,
    # generator, seed(s), psi, layers, direction...
    settings = models.JSONField(default=dict)
    file = models.CharField(max_length=300)  # Relative to MEDIA_ROOT/galleries/.
    content_type = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class ShareLink(models.Model):
    gallery = models.ForeignKey(
        Gallery, on_delete=models.CASCADE, related_name="share_links"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
