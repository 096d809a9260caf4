"""Test suite package: lets test modules in different folders share a basename (e.g. test_devstack.py)."""
