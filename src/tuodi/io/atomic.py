"""Writing an output file so that it is complete or absent, and nothing else is left behind.

Every file Tuodi writes (settlements, warnings, department files, the report) goes through
`atomic_output`: the writer fills a temporary file in the target's folder, which is renamed over
the target only when complete. So a failed or killed run leaves the old file as it was
(CONTRACT.md: nothing is written to `--out` when the run fails), and

- on Linux the temporary file is anonymous (O_TMPFILE): a run killed with `kill -9`, or a full
  disk, leaves nothing visible; it is linked under a name only for the moment of the rename;
- elsewhere (a file system without O_TMPFILE) it is a named file `.{target}.tuodi-{pid}-{random}.tmp`,
  and a later run writing the same target removes those left by runs that no longer exist;
- the file gets the permissions any tool gives a new file, 0666 less the umask (not mkstemp's 0600);
- an error of the file system (no space left, no permission) becomes an `OutputError` naming the
  file, which the command line prints as one line.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

#: when this process (this run of `tuodi`) began: a temporary file last written before it, by a
#: process that no longer exists, is a leftover of a killed run
_STARTED = time.time()
_TAG = ".tuodi-"


class OutputError(Exception):
    """An output file that could not be written: `file` and why (no space left, …)."""

    def __init__(self, file: str | Path, message: str):
        self.file, self.message = str(file), message
        super().__init__(f"{self.file}: {message}")


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (/proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_name(target: Path, suffix: str = ".tmp") -> str:
    """A name for a temporary file beside `target` that `remove_stale` recognises as Tuodi's."""
    return f".{target.name}{_TAG}{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _stale(folder: Path, target_name: str) -> Iterator[Path]:
    pattern = re.compile(re.escape(f".{target_name}{_TAG}") + r"(\d+)-[A-Za-z0-9_]+\.(?:tmp|dir)")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None:
            continue
        pid = int(m.group(1))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue                     # its writer is still running
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError):
            continue                     # another user's process, still running
        try:
            if entry.stat(follow_symlinks=False).st_mtime >= _STARTED:
                continue
        except OSError:
            continue
        yield Path(entry.path)


def remove_stale(target: str | Path) -> None:
    """Remove the temporary files (and folders) of `target` that killed runs left behind."""
    target = Path(target)
    for p in _stale(target.parent, target.name):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                p.unlink()
            except OSError:
                pass


def output_error(path: Path, e: BaseException) -> OutputError | None:
    """The file system's refusal in `e` (OSError, or a library's error quoting `os error N`) as an
    `OutputError` naming `path`; None when `e` is something else (a bug: raised as it is)."""
    code = e.errno if isinstance(e, OSError) else None
    if code is None:
        m = re.search(r"os error (\d+)", str(e))
        if m:
            code = int(m.group(1))
        elif "No space left on device" in str(e):
            code = errno.ENOSPC
    if code is None:
        return None
    return OutputError(path, f"cannot write the file: {os.strerror(code).lower()}")


class _Anonymous:
    """An O_TMPFILE file in the target's folder, reached by writers through /proc/self/fd."""

    def __init__(self, target: Path):
        self.target = target
        self.dir_fd = os.open(target.parent, os.O_DIRECTORY | os.O_RDONLY)
        try:
            # the mode is masked by the umask like any new file's
            self.fd = os.open(target.parent, os.O_TMPFILE | os.O_RDWR, 0o666)
        except BaseException:
            os.close(self.dir_fd)
            raise
        self.path = f"/proc/self/fd/{self.fd}"

    def commit(self) -> None:
        name = temporary_name(self.target)
        # linkat(AT_SYMLINK_FOLLOW) of the /proc link names the anonymous file; os.link uses
        # linkat only when given a directory fd
        os.link(self.path, name, dst_dir_fd=self.dir_fd, follow_symlinks=True)
        try:
            os.replace(name, self.target.name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
        except BaseException:
            os.unlink(name, dir_fd=self.dir_fd)
            raise

    def close(self) -> None:
        os.close(self.fd)
        os.close(self.dir_fd)


class _Named:
    """A named temporary file, for file systems without O_TMPFILE (mkstemp: 0600 until committed)."""

    def __init__(self, target: Path):
        self.target = target
        fd, self.path = tempfile.mkstemp(prefix=f".{target.name}{_TAG}{os.getpid()}-", suffix=".tmp",
                                         dir=target.parent)
        os.close(fd)

    def commit(self) -> None:
        os.chmod(self.path, 0o666 & ~_umask())
        os.replace(self.path, self.target)

    def close(self) -> None:
        if os.path.lexists(self.path):
            os.unlink(self.path)


def _temporary(target: Path, anonymous: bool) -> _Anonymous | _Named:
    if anonymous and hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd"):
        try:
            return _Anonymous(target)
        except OSError as e:
            # the file system has no O_TMPFILE (EOPNOTSUPP; older kernels say EISDIR or EINVAL)
            if e.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
    return _Named(target)


#: tests set this to False to exercise the fallback for file systems without O_TMPFILE
ANONYMOUS = True


@contextmanager
def atomic_output(path: str | Path) -> Iterator[str]:
    """Yield a path the writer opens and fills; on success it replaces `path`, atomically.

    The writer may open the path as often as it likes (truncating it); `path` itself is untouched
    until the block ends without an exception. Raises `OutputError` on a file-system error."""
    path = Path(path)
    remove_stale(path)
    try:
        tmp = _temporary(path, ANONYMOUS)
    except OSError as e:
        raise output_error(path, e) from None
    try:
        yield tmp.path
        tmp.commit()
    except BaseException as e:
        failure = output_error(path, e) if isinstance(e, Exception) else None
        if failure is not None:
            raise failure from None
        raise
    finally:
        try:
            tmp.close()
        except OSError:
            pass


@contextmanager
def atomic_folder(folder: str | Path) -> Iterator[Path]:
    """A temporary folder beside `folder` (with the umask's permissions, not mkdtemp's 0700),
    removed again unless the caller has moved it; stale ones of killed runs are removed first."""
    folder = Path(folder)
    remove_stale(folder)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}{_TAG}{os.getpid()}-", suffix=".dir",
                                    dir=folder.parent))
        os.chmod(tmp, 0o777 & ~_umask())
    except OSError as e:
        raise output_error(folder, e) from None
    try:
        yield tmp
    except BaseException as e:
        failure = output_error(folder, e) if isinstance(e, Exception) else None
        if failure is not None:
            raise failure from None
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["ANONYMOUS", "OutputError", "atomic_folder", "atomic_output", "remove_stale", "temporary_name"]
