"""A training job is the database's record of one model being trained.

The database is the source of truth: workers claim jobs with conditional
updates, hold a lease they renew with a heartbeat, and write progress here
before anything is forwarded to live sockets.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)
RESUMABLE_STATES = (JobState.CANCELLED, JobState.INTERRUPTED, JobState.FAILED)


class Job(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    name = models.CharField(max_length=200, blank=True)
    # Why the run was started, in the person's words (shown on its page and
    # when runs are compared).
    note = models.TextField(blank=True)
    # Built-in data is referred to by "builtin:<name>"; uploads by their row,
    # which a running or stored job protects from deletion.
    data_ref = models.CharField(max_length=200)
    dataset = models.ForeignKey(
        "datasets.Dataset",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="jobs",
    )
    family = models.CharField(max_length=40)
    config = models.JSONField()
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    # Where this job's weights started (init-from): the model and checkpoint
    # step, the share token that granted it when the model is someone else's,
    # and a label that outlives a deleted origin. No origin: random weights.
    init_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    init_from_step = models.PositiveIntegerField(null=True, blank=True)
    init_from_share = models.CharField(max_length=64, blank=True)
    init_from_label = models.CharField(max_length=300, blank=True)
    # A model brought in as a checkpoint file rather than trained here: the
    # data its checkpoint says it learnt from ({kind, channels, image_size,
    # class_names, ...}, gan_core's DataInfo) and the file's name.
    imported = models.JSONField(default=dict, blank=True)

    state = models.CharField(
        max_length=20, choices=JobState.choices, default=JobState.QUEUED, db_index=True
    )
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    device = models.CharField(max_length=120, blank=True)
    # Devices the job trains on at once (its world size): one process per
    # device on one worker that owns at least this many (workers/ranks.py).
    gpus = models.PositiveSmallIntegerField(default=1)
    # The ranks of the running or last attempt: [{rank, device, pid}].
    ranks = models.JSONField(default=list, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    images_per_sec = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    latest_sample = models.CharField(max_length=300, blank=True)
    latest_checkpoint = models.CharField(max_length=300, blank=True)

    # Coordination between the web and the workers.
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    # Worker losses in a row; past GAN_JOB_MAX_CRASHES the job fails instead of
    # cycling forever (a run that kills its worker, e.g. out of host memory).
    crash_count = models.PositiveIntegerField(default=0)
    # Set when a worker loss interrupted the job: the next training worker to
    # start queues it again, and it resumes from its last checkpoint.
    auto_resume = models.BooleanField(default=False)
    # The divergence watchdog's rollbacks, oldest first: {from_step, step,
    # reason, lr_scale}, so a viewer arriving later still sees what happened.
    rollbacks = models.JSONField(default=list, blank=True)
    # The checkpoint the playground uses when none is asked for (None: the
    # latest). People promote the one that looks best on the timeline.
    promoted_step = models.PositiveIntegerField(null=True, blank=True)
    # When this queued stint's task reached the broker; None while it has not
    # (the broker was down when the job was queued): the periodic sweep sends
    # those. A second message is harmless, the claim is a conditional update.
    sent_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.family}, {self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def data_title(self) -> str:
        """What the job trains on, by name: pages show this, never the id."""
        from ganweb.jobs.data_sources import data_title

        return data_title(self.data_ref, self.dataset)

    @property
    def progress(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


class MetricPoint(models.Model):
    """One step's figures, kept compact: the forwarder thins them as a run grows."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="points")
    step = models.PositiveIntegerField()
    values = models.JSONField()

    class Meta:
        ordering = ["step"]
        indexes = [models.Index(fields=["job", "step"])]


class Sample(models.Model):
    """A fixed-noise sample grid (or, for 2D data, points and the D surface)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="samples")
    step = models.PositiveIntegerField()
    image = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["step"]


class Checkpoint(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="checkpoints")
    step = models.PositiveIntegerField()
    path = models.CharField(max_length=300)
    # Its evaluation (mode coverage or classifier-FID, per the data), filled in
    # by a light worker after the checkpoint is written; {"note": ...} if none.
    figures = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["step"]
