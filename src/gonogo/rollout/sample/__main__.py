"""``python -m gonogo.rollout.sample``: run the sample service."""

import sys

from gonogo.rollout.sample.service import main

sys.exit(main())
