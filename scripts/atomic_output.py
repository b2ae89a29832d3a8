"""Output files of the Python helper scripts, written the way nurec writes its own: beside the
destination under a per-process name and renamed into place, so an interrupted or failed run
leaves no half file (docs/reliability.md)."""
import os
import sys


def write_atomically(path, write, tool):
    """Calls write(temporary path), renames the result to path and returns what write returned;
    on an OSError exits with a one-line message naming tool and path. The temporary is removed
    whatever happens."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        result = write(tmp)
        os.replace(tmp, path)
        return result
    except OSError as e:
        sys.exit(f"{tool}: cannot write {path}: {e.strerror or e}")
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
