"""Docker e2e tests (marker docker): a package, so its conftest does not shadow e2e/conftest.py."""
