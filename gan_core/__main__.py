"""``python -m gan_core models|train|sample|evaluate``."""

import sys

from gan_core.cli import main

sys.exit(main())
