"""GAN Studio engine: plain PyTorch training, sampling and evaluation."""
