"""The desktop app's widgets: the only package (with nnstudio.app) that imports PySide6.

Kept free of imports so that loading one part (say, the document) does not load every widget.
"""
