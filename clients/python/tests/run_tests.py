#!/usr/bin/env python3
"""Runs the Python connector tests and ends with "N passed, N failed" (the
line CI counts). Arguments select test modules (default: every test_*.py);
--strict counts skipped tests as failed (ctest uses it, so a missing
SNORKY_BINARY cannot pass silently)."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the snorky package
sys.path.insert(0, HERE)  # test helpers


def main() -> int:
    args = sys.argv[1:]
    strict = "--strict" in args
    names = [a for a in args if a != "--strict"]
    loader = unittest.TestLoader()
    if names:
        suite = unittest.TestSuite(loader.loadTestsFromName(name) for name in names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    if skipped:
        print("%d skipped%s" % (skipped, " (counted as failed: --strict)" if strict else ""))
        if strict:
            failed += skipped
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
