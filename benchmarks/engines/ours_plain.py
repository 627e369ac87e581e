"""autograd-core in a bare loop, the cycle collector running: what a hand-written loop gets."""

from .ours import OursPlain

ENGINE = OursPlain()
