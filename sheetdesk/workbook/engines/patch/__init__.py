"""The package-patching save engine."""
