"""The job page's word on quality figures: whether Inception FID/KID are on."""

from django import template
from django.conf import settings

register = template.Library()


def _data_kind(job) -> str:
    if job.dataset_id is not None:
        return job.dataset.kind
    from gan_core.data.builtin_catalog import BUILTIN_NAMES, describe_builtin

    name = job.data_ref.removeprefix("builtin:")
    return describe_builtin(name)["kind"] if name in BUILTIN_NAMES else ""


@register.inclusion_tag("jobs/_inception_note.html")
def inception_note(job) -> dict:
    """Shown once per page, for jobs on images or classes (the data Inception
    FID measures), when the operator has set no Inception weights."""
    images = _data_kind(job) in ("images", "classes")
    return {"show": images and not settings.GAN_INCEPTION_WEIGHTS}
