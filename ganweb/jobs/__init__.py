"""Training jobs: queue, run on workers, watch live, cancel and resume."""
