"""GAN Studio core app."""
