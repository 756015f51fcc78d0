"""Campus transports organised by the regional groups (GR)."""
