"""nnstudio: design neural networks as graphs, compile them to PyTorch, train and export them."""

__version__ = "0.1.0"
