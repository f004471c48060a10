"""Write files that hold secrets: mode 0600, never through a symbolic link.

Two writers, for two jobs:

* :func:`write_secret_file` — the ``--output-file`` of ``spend-request create/retrieve``
  (contract §10.2): a new file, refusing symlinks even with ``force`` and refusing an
  existing entry unless ``force``.
* :func:`atomic_write_private` — the token store (contract §6.5): replace the whole file atomically
  (temporary file in the same directory, fsync, rename), so a crash never leaves a torn
  credentials file and the result is always 0600.

Every failure is a :class:`SecretFileError`; its message is what the CLI shows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

__all__ = [
    "SecretFileError",
    "SecretFileExistsError",
    "SecretFileSymlinkError",
    "SecretFileWriteError",
    "atomic_write_private",
    "write_secret_file",
]

_PRIVATE_FILE_MODE = 0o600
_PRIVATE_DIR_MODE = 0o700
_CREATE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class SecretFileError(Exception):
    """A secret file could not be written; ``path`` is the absolute target."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class SecretFileExistsError(SecretFileError):
    """The target exists and overwriting was not requested (``OUTPUT_FILE_EXISTS``)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"OUTPUT_FILE_EXISTS: {path} already exists. Use --force to overwrite.", path
        )


class SecretFileSymlinkError(SecretFileError):
    """The target is a symbolic link; secrets are never written through one."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"OUTPUT_FILE_SYMLINK: {path} is a symbolic link. "
            "Refusing to write credentials through it.",
            path,
        )


class SecretFileWriteError(SecretFileError):
    """Any other failure (permissions, missing directory, full disk): the OS error text."""

    @classmethod
    def from_os_error(cls, error: OSError, path: str) -> SecretFileWriteError:
        """Wrap ``error`` keeping its human-readable text and the target path."""
        reason = error.strerror or str(error)
        return cls(f"{reason}: {path}", path)


def write_secret_file(path: str | os.PathLike[str], text: str, *, force: bool = False) -> str:
    """Create ``path`` with mode 0600 and write ``text`` (UTF-8); return the absolute path.

    Raises :class:`SecretFileSymlinkError` if the final component is a symlink (even with
    ``force``), :class:`SecretFileExistsError` if something exists there and ``force`` is
    false, :class:`SecretFileWriteError` for any other OS failure. The exclusive,
    no-follow create maps a file or symlink planted between the checks to the same errors.
    """
    target = os.path.abspath(os.fspath(path))
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise SecretFileWriteError.from_os_error(error, target) from error
    if existing is not None:
        if stat.S_ISLNK(existing.st_mode):
            raise SecretFileSymlinkError(target)
        if not force:
            raise SecretFileExistsError(target)
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise SecretFileWriteError.from_os_error(error, target) from error
    fd = _create_exclusive(target)
    try:
        _write_all(fd, text.encode("utf-8"))
    except OSError as error:
        os.close(fd)
        _unlink_quietly(target)
        raise SecretFileWriteError.from_os_error(error, target) from error
    os.close(fd)
    return target


def atomic_write_private(path: str | os.PathLike[str], text: str) -> str:
    """Atomically replace ``path`` with ``text`` (UTF-8), mode 0600; return the absolute path.

    Missing parent directories are created with mode 0700. The data goes to a fresh
    temporary file in the same directory (exclusive, no-follow, 0600), is fsynced and
    renamed over the target, so readers see the old or the new content, never a mix, and
    an old 0644 file comes out 0600. A symlink at ``path`` is refused
    (:class:`SecretFileSymlinkError`); other failures raise :class:`SecretFileWriteError`.
    """
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    try:
        os.makedirs(directory, mode=_PRIVATE_DIR_MODE, exist_ok=True)
        if os.path.islink(target):
            raise SecretFileSymlinkError(target)
    except OSError as error:
        raise SecretFileWriteError.from_os_error(error, target) from error
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{os.urandom(8).hex()}.tmp")
    fd = _create_exclusive(temporary)
    try:
        try:
            _write_all(fd, text.encode("utf-8"))
            os.fchmod(fd, _PRIVATE_FILE_MODE)  # exactly 0600, whatever the umask
            os.fsync(fd)
        finally:
            os.close(fd)
        # rename(2) replaces a directory entry and never follows a symlink at the target.
        os.replace(temporary, target)
    except OSError as error:
        _unlink_quietly(temporary)
        raise SecretFileWriteError.from_os_error(error, target) from error
    _fsync_directory(directory)
    return target


def _create_exclusive(path: str) -> int:
    """Open a brand-new file for writing, 0600, refusing existing entries and symlinks."""
    try:
        return os.open(path, _CREATE_FLAGS, _PRIVATE_FILE_MODE)
    except FileExistsError as error:
        # O_EXCL also fails on a dangling symlink; report what is really there.
        if os.path.islink(path):
            raise SecretFileSymlinkError(path) from error
        raise SecretFileExistsError(path) from error
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SecretFileSymlinkError(path) from error
        raise SecretFileWriteError.from_os_error(error, path) from error


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; best effort (some filesystems refuse directory fsync)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
