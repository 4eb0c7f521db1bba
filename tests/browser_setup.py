"""Find a Chromium for the browser tests, installing Debian's when we can.

Playwright cannot download its own browser here (no internet), so the suite
drives the system Chromium. When none can be found or installed, this fails
loudly: browser tests must never be skipped silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit and os.access(explicit, os.X_OK):
        return explicit
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def install_with_apt() -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("installing Debian's chromium (apt-get install -y chromium)...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env)
    return result.returncode == 0


def main() -> int:
    path = find_chromium()
    if path is None and install_with_apt():
        path = find_chromium()
    if path is None:
        print(
            "No Chromium found for the browser tests. Install one "
            "(Debian: `apt-get install -y chromium`) or set CHROMIUM_PATH.",
            file=sys.stderr,
        )
        return 1
    print(f"browser tests use {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
