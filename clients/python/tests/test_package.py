"""clients/python builds into an installable wheel that carries the package."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class PackageTest(unittest.TestCase):
    def test_wheel_builds_and_imports(self):
        with tempfile.TemporaryDirectory() as tmp:
            # Build from a copy so the source tree gets no build/ or egg-info.
            tree = os.path.join(tmp, "src")
            shutil.copytree(SOURCE, tree, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
            out = os.path.join(tmp, "dist")
            os.mkdir(out)
            build = subprocess.run(
                [sys.executable, "-c", "import sys; from setuptools import build_meta as b; print(b.build_wheel(sys.argv[1]))", out],
                cwd=tree, capture_output=True, text=True)
            self.assertEqual(build.returncode, 0, build.stderr)
            wheel = os.path.join(out, build.stdout.strip().splitlines()[-1])
            names = zipfile.ZipFile(wheel).namelist()
            for expected in ("snorky/__init__.py", "snorky/backend/__init__.py", "snorky/backend/django/__init__.py",
                             "snorky/backend/django/rest_framework.py", "snorky/py.typed", "snorky/VERSION"):
                self.assertIn(expected, names)
            # Import from the wheel alone (pure Python wheels are importable zips).
            check = subprocess.run(
                [sys.executable, "-S", "-c",
                 "import sys; sys.path.insert(0, sys.argv[1]); "
                 "import snorky; from snorky.backend import SnorkyBackend, SnorkyHTTPTransport, SnorkyError; "
                 "print(SnorkyHTTPTransport('http://h/b', key='k').url, snorky.__version__)", wheel],
                capture_output=True, text=True, cwd=tmp)
            self.assertEqual(check.returncode, 0, check.stderr)
            with open(os.path.join(SOURCE, "..", "..", "VERSION"), encoding="ascii") as f:
                version = f.read().strip()
            # The wheel's version and the package's own are the repository's VERSION.
            self.assertIn("snorky-" + version + "-", os.path.basename(wheel))
            self.assertEqual(check.stdout.strip(), "http://h/b " + version)


if __name__ == "__main__":
    unittest.main()
