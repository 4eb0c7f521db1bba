"""The job page's word on quality figures: whether Inception FID/KID are on."""

from django import template
from django.conf import settings

from ganweb.jobs.families import family_entry

register = template.Library()


@register.inclusion_tag("jobs/_inception_note.html")
def inception_note(job) -> dict:
    """Shown once per page, for image jobs, when no Inception weights are set."""
    entry = family_entry(job.family)
    images = entry is None or any(kind != "points" for kind in entry["data_kinds"])
    return {"show": images and not settings.GAN_INCEPTION_WEIGHTS}
