"""With Inception configured, a checkpoint is measured on at most
GAN_INCEPTION_SAMPLES samples: Inception sees 2n images at about a second
each on a CPU, and an n past the light task's time limit would lose every
figure of the checkpoint."""

from workers.tasks.evaluation import TIMELINE_SAMPLES, timeline_samples


def test_inception_caps_the_samples_per_checkpoint(settings):
    settings.GAN_INCEPTION_WEIGHTS = ""
    settings.GAN_INCEPTION_SAMPLES = 250
    assert timeline_samples() == TIMELINE_SAMPLES
    settings.GAN_INCEPTION_WEIGHTS = "/srv/weights/inception.pth"
    assert timeline_samples() == 250
    settings.GAN_INCEPTION_SAMPLES = 10 * TIMELINE_SAMPLES
    assert timeline_samples() == TIMELINE_SAMPLES
