"""Small helpers with no nnstudio dependencies, usable from every layer."""
