"""Files in and out: versioned JSON projects, and (in export/) the model formats users take away."""

from nnstudio.io.project_file import EXTENSION, MAX_FILE_BYTES, dumps, load, loads, save
from nnstudio.io.reader import ProjectFileError

__all__ = ["EXTENSION", "MAX_FILE_BYTES", "ProjectFileError", "dumps", "load", "loads", "save"]
