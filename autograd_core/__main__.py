"""`python -m autograd_core` is the `autograd-core` command line."""

import sys

from .cli import main

sys.exit(main())
