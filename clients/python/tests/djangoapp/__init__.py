"""A Django app for the tests of snorky.backend.django (see django_support.py)."""
