"""Datasets, readers and batching."""

import csv
import sys

# a long review is one CSV field: lift the csv module's 128 KiB cap for every reader here
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
