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


def _refusal(job) -> str:
    """Why the light worker could not use the configured Inception weights at
    this job's newest measured checkpoint ('' when it could, or none yet)."""
    for figures in job.checkpoints.order_by("-step").values_list("figures", flat=True):
        if figures:
            return str(figures.get("inception_note") or "")
    return ""


@register.inclusion_tag("jobs/_inception_note.html")
def inception_note(job) -> dict:
    """Shown once per page, for jobs on images or classes (the data Inception
    FID measures), when the operator has set no Inception weights, or when
    the workers refused the file that was set (missing, wrong checksum)."""
    images = _data_kind(job) in ("images", "classes")
    if not images:
        return {"show": False, "configured": False}
    if not settings.GAN_INCEPTION_WEIGHTS:
        return {"show": True, "configured": False}
    # Configured: the note is on the page but hidden until a worker refuses
    # the file (timeline.js shows it when such figures arrive live).
    reason = _refusal(job)
    return {"show": bool(reason), "configured": True, "reason": reason}
