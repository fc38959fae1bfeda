#!/usr/bin/python3
"""The to-do example as a Django project (see README.md)."""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The snorky package from this repository, unless it is installed.
sys.path.insert(1, str(HERE.parent.parent / "clients" / "python"))

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
