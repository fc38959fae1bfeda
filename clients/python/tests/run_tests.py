#!/usr/bin/env python3
"""Runs the Python connector tests and ends with "N passed, N failed" (the
line CI counts). Arguments select test modules (default: every test_*.py)."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the snorky package
sys.path.insert(0, HERE)  # test helpers


def main() -> int:
    loader = unittest.TestLoader()
    if len(sys.argv) > 1:
        suite = unittest.TestSuite(loader.loadTestsFromName(name) for name in sys.argv[1:])
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
