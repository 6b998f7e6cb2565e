"""``python -m zenith.cli``: the same as the ``zenith`` command."""

import sys

from zenith.cli import main

sys.exit(main())
