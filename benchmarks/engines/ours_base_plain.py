"""autograd-core at an earlier commit in a bare loop, the collector running (as `ours-plain`)."""

from .ours_base import BasePlain

ENGINE = BasePlain()
