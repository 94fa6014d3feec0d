"""Red-team accuracy corpus: leaks and non-leaks written the way real repositories write them.

Written independently of the rule files (before reading them) to estimate how leakvault does on
code its authors never saw. ``python -m benchmarks.redteam`` generates, scans and scores.
"""
