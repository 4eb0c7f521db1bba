"""GAN Studio api app."""
