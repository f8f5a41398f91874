"""vpp package."""
