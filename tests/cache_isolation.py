"""Give each test run its own cache key prefix before Django reads settings.

The suite may run against a Redis that keeps data between runs (the system
Redis in CI): cached pre-flight estimates or sign-in lockouts from an earlier
run must not leak into this one. Loaded with ``-p`` so it runs before
pytest-django sets Django up; live-stack processes inherit the variable.
"""

import os
import uuid

os.environ.setdefault("GAN_CACHE_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
