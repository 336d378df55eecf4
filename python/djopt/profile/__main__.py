"""``python -m djopt.profile FILE``: the N+1 groups of a profile, with djopt's findings."""

import sys

from ._static import main

sys.exit(main())
