"""GAN Studio accounts app."""
