# Byte units and the read size, shared by every group so each is defined once.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

MIB = 1024 * 1024
GIB = 1024 ** 3
# Read/write size of downloads, hashing and archive checks.
CHUNK = MIB
