"""After training: how a run's model does on held-out data."""
