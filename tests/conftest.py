"""Hypothesis profiles: `ci` (the default: derandomized, fast), `long` and `mutation`.

Choose one with HYPOTHESIS_PROFILE=long (what `make test-long` does). Tests leave the number
of examples to the profile, so one switch scales the whole suite.
"""

import os

from hypothesis import HealthCheck, settings

# Derandomized so a red CI run is red again on a developer's machine; no deadline because a
# slow shared machine is not a bug.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", deadline=None, max_examples=3000,
                          suppress_health_check=[HealthCheck.too_slow])
# mutmut runs the suite once per mutant: few examples, since one failing example kills it.
settings.register_profile("mutation", parent=settings.get_profile("ci"), max_examples=12)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
