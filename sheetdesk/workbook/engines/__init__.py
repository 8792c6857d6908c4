"""The save engines."""
