"""What a job trains on: a built-in dataset or one of the user's uploads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganweb.core.ids import parse_id

BUILTIN_PREFIX = "builtin:"


class DataSourceError(ValueError):
    """The data a job asks for does not exist, is not ready, or is not theirs."""


@dataclass(frozen=True)
class DataSource:
    data_ref: str  # "builtin:<name>" or the dataset's id as a string
    kind: str  # "images", "classes", "domains", "pairs" or "points"
    title: str
    dataset: object | None = None  # the Dataset row for uploads

    def spec(self) -> str:
        """What gan_core's trainer takes as ``data``: builtin:<name>, a folder,
        or pairs:<folder> / pairs-sbs:<folder> for a paired upload."""
        if self.dataset is None:
            return self.data_ref
        from ganweb.datasets.services import dataset_training_spec

        return dataset_training_spec(dataset=self.dataset)


def builtin_source(name: str) -> DataSource:
    from gan_core.data.builtin_catalog import BUILTIN_NAMES, describe_builtin

    if name not in BUILTIN_NAMES:
        raise DataSourceError(f"unknown built-in dataset '{name}'")
    info = describe_builtin(name)
    return DataSource(f"{BUILTIN_PREFIX}{name}", info["kind"], info.get("title", name))


def data_title(data_ref: str, dataset=None) -> str:
    """The name of a job's data: the upload's name, or the built-in's title."""
    if dataset is not None:
        return dataset.name
    if data_ref.startswith(BUILTIN_PREFIX):
        try:
            return builtin_source(data_ref[len(BUILTIN_PREFIX) :]).title
        except DataSourceError:
            pass
    return data_ref


def resolve_data_source(*, user, data_ref: str) -> DataSource:
    """The user's view of ``data_ref``; foreign datasets look like missing ones."""
    data_ref = str(data_ref).strip()
    if data_ref.startswith(BUILTIN_PREFIX):
        return builtin_source(data_ref[len(BUILTIN_PREFIX) :])
    from ganweb.datasets.models import Dataset

    dataset_id = parse_id(data_ref)
    if dataset_id is None:
        raise DataSourceError(f"no dataset '{data_ref[:80]}'")
    dataset = Dataset.objects.filter(owner=user, pk=dataset_id).first()
    if dataset is None:
        raise DataSourceError(f"no dataset '{data_ref}'")
    if dataset.state != "ready":
        raise DataSourceError(f"dataset '{dataset.name}' is {dataset.state}, not ready")
    return DataSource(str(dataset.pk), dataset.kind, dataset.name, dataset)


def family_suits(family, kind: str) -> bool:
    """Unconditional image families also train on class folders (labels unused)."""
    if kind in family.data_kinds:
        return True
    return kind == "classes" and "images" in family.data_kinds


def job_media_dir(job_id: int) -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "jobs" / str(job_id)
