"""The one atomic file writer of the project: a file is replaced whole or not at all, and a set
of files (a run's pictures and model, a stepper's frames and page) all together or not at all.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

PathLike = str | os.PathLike[str]
AnyPath = TypeVar("AnyPath", bound=PathLike)  # Mapping's key type is invariant

_NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows, when pathconf cannot say
_TEMP_TRIES = 100
_CLEANUP_TRIES = 10  # Ctrl-C pressed this many times in a row during a clean-up wins


def check_folder(path: PathLike) -> Path:
    """The folder path, checked before any work: a folder, or one that can be made (its nearest
    existing ancestor is a folder we can write in). Raises ValueError or OSError naming it."""
    folder = _as_path(path, "a folder")
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        where = "" if existing == folder else f"cannot use {str(folder)!r}: "
        raise ValueError(f"{where}{str(existing)!r} is {_kind_of(existing)}, not a folder")
    # Writing is the only honest test of writability (permissions, ACLs, read-only mounts):
    # an anonymous temporary file that vanishes when closed.
    with tempfile.TemporaryFile(dir=existing):
        pass
    return folder


def check_target(path: PathLike) -> Path:
    """The file path, checked before any work: a valid name, its folder a folder (or makeable),
    and the path a regular file or nothing yet. Raises ValueError naming what is wrong.

    A symbolic link is followed, as open() follows it: the file it points to is replaced and the
    link is kept. A link to a device, a FIFO or a folder is refused like the thing itself.
    """
    target = _as_path(path, "a file")
    if os.fspath(path).endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        raise ValueError(f"{str(path)!r} names a folder, not a file")
    existing = _nearest_existing(target.parent)
    if not existing.is_dir():
        raise ValueError(f"cannot write {str(target)!r}: {str(existing)!r} is "
                         f"{_kind_of(existing)}, not a folder")
    real = Path(os.path.realpath(target))
    size = len(os.fsencode(real.name))
    if size > _name_max(existing):
        raise ValueError(f"cannot write {str(target)!r}: its name is {size} bytes long, the "
                         f"limit in {str(existing)!r} is {_name_max(existing)}")
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        raise ValueError(f"refusing to replace {str(target)!r}: it is {_kind(mode)}, "
                         f"not a regular file")
    return target


def write_atomic(path: PathLike, data: bytes, *, make_folders: bool = False) -> Path:
    """Replace the file at path with data in one rename: readers see all of the old file or
    all of the new one; on any error (or Ctrl-C) the old file is untouched. Returns path."""
    return write_files({path: data}, make_folders=make_folders)[0]


def write_files(files: Mapping[AnyPath, bytes], *, make_folders: bool = False) -> list[Path]:
    """Replace every file with its data as a set: all of them, or none (each keeps its old
    contents) if anything fails or is interrupted (Ctrl-C included, at any stage). Returns the
    paths, in order.

    Every target is checked first (see check_target), then every new file is written and
    synced to a temporary file beside its target (a full disk shows up here, while nothing is
    replaced yet), then each old file but the last gets a second name (a hard link, or a synced
    copy where links are refused: EPERM under fs.protected_hardlinks, a file system without
    links), then the temporaries are renamed over the targets one by one, so a failure part way
    puts the old files back. A process killed (not interrupted) during those renames can leave
    a mix, plus `.NAME.*.old` files. A replaced file keeps its permission bits, and its owner
    and group where we may set them (root rewriting a user's file leaves it the user's); a new
    file gets the usual bits (0666 less the umask). make_folders=True creates missing folders.
    """
    targets = [check_target(p) for p in files]
    reals = [Path(os.path.realpath(t)) for t in targets]
    if len(set(reals)) != len(reals):
        raise ValueError(f"two of the paths name the same file: {[str(t) for t in targets]}")
    for target, real in zip(targets, reals):
        if make_folders:
            real.parent.mkdir(parents=True, exist_ok=True)
        elif not real.parent.is_dir():
            raise ValueError(f"cannot write {str(target)!r}: the folder "
                             f"{str(target.parent)!r} does not exist")
    # Every name we create is recorded *before* the call that creates it, so that an interrupt
    # landing between the system call and the bookkeeping still finds it to clean up.
    made: list[Path] = []
    staged: list[tuple[Path, Path]] = []  # (temporary file, the file it replaces)
    try:
        for real, data in zip(reals, files.values()):
            staged.append((_stage(real, data, made), real))
        _commit(staged, made)
    finally:
        interrupt = _despite_interrupts(functools.partial(_remove_each, made))
    if interrupt is not None:
        raise interrupt
    return targets


def _as_path(path: PathLike, what: str) -> Path:
    # Path("") is Path("."): an empty argument would silently mean the current folder.
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"a path must be a str or a path object, got {type(path).__name__}")
    if os.fspath(path) == "":
        raise ValueError(f"an empty path names no {what.split()[-1]}; give {what}'s path")
    return Path(path)


def _nearest_existing(folder: Path) -> Path:
    """folder itself if it exists, else its closest ancestor that does."""
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer
        return _NAME_MAX


def _kind_of(path: Path) -> str:
    try:
        return _kind(os.stat(path).st_mode)
    except OSError:  # a dangling or looping symbolic link
        return "a broken symbolic link"


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISREG, "a file"), (stat.S_ISDIR, "a folder"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "a special file")


def _sibling(target: Path, suffix: str) -> Path:
    """A fresh hidden name beside target: .NAME.<random><suffix>, NAME cut so the whole name
    fits in NAME_MAX bytes whenever target's own name does."""
    token = secrets.token_hex(4)
    room = _name_max(target.parent) - len(f"..{token}{suffix}")
    # Cutting the encoded name may split a character; fsdecode keeps the bytes as they are.
    stem = os.fsdecode(os.fsencode(target.name)[:max(room, 1)])
    return target.with_name(f".{stem}.{token}{suffix}")


def _create(target: Path, suffix: str, made: list[Path]) -> tuple[int, Path]:
    """A new file beside target, opened for writing (O_EXCL: never someone else's); its name
    is in `made` from before it exists until the caller takes it out."""
    # Not mkstemp: it creates files 0600, and learning the umask to widen them again means
    # setting it process-wide. Created 0666 here, the kernel applies the umask (and any
    # default ACL) itself.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(_TEMP_TRIES):
        path = _sibling(target, suffix)
        made.append(path)
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            made.remove(path)  # another's file: not ours to remove
            if attempt == _TEMP_TRIES - 1:
                raise
    raise AssertionError("unreachable")  # for type checkers: the loop returns or raises


def _old_stat(target: Path) -> os.stat_result | None:
    try:
        return os.stat(target)
    except FileNotFoundError:
        return None


def _write_synced(fd: int, data: bytes, old: os.stat_result | None) -> None:
    """data into the open file fd, with old's owner, group and permission bits, synced."""
    with open(fd, "wb") as out:
        if old is not None:
            _keep_owner(out.fileno(), old)
            # After the chown, which clears set-user-ID bits the mode may hold.
            os.fchmod(out.fileno(), stat.S_IMODE(old.st_mode))
        out.write(data)
        out.flush()
        os.fsync(out.fileno())  # the data is on disk before the name points at it


def _keep_owner(fd: int, old: os.stat_result) -> None:
    # Only root (or the owner giving a file to a group they are in) may do this; anyone else
    # keeps the file as their own, as any editor's save does.
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):
            os.fchown(fd, old.st_uid, old.st_gid)


def _stage(target: Path, data: bytes, made: list[Path]) -> Path:
    """data written and synced to a new temporary file beside target; its path (in `made`)."""
    old = _old_stat(target)
    fd, tmp = _create(target, ".tmp", made)
    _write_synced(fd, data, old)
    return tmp


def _commit(staged: list[tuple[Path, Path]], made: list[Path]) -> None:
    """Rename every temporary over its target; on failure put back what was replaced. The
    temporaries and backups are in `made`, which the caller removes."""
    existed = [os.path.lexists(target) for _, target in staged]
    backups: list[Path | None] = []
    try:
        # Every rename but the last may need undoing: keep the old file under a second name.
        for (_, target), old in zip(staged[:-1], existed):
            backups.append(_backup(target, made) if old else None)
        backups.append(None)
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException as error:
        interrupt = _despite_interrupts(
            functools.partial(_roll_back, staged, existed, backups, made, error))
        if interrupt is not None and not isinstance(error, KeyboardInterrupt):
            _note(error, "interrupted (Ctrl-C) while putting the old files back; they are back")
        raise


def _roll_back(staged: list[tuple[Path, Path]], existed: list[bool],
               backups: list[Path | None], made: list[Path], error: BaseException) -> None:
    """Put back every target whose temporary was renamed, unless all were (then the new set
    is complete and stays). Idempotent, so an interrupted roll-back can simply run again."""
    if not any(os.path.lexists(tmp) for tmp, _ in staged):
        return
    for (tmp, target), old, backup in zip(staged, existed, backups + [None] * len(staged)):
        if os.path.lexists(tmp):
            continue  # never renamed: the caller removes it
        if backup is not None:
            if not os.path.lexists(backup):
                continue  # put back already, by an earlier, interrupted run of this
            try:
                os.replace(backup, target)
            except OSError:
                # The backup is now the only copy of the old file: keep it, and say where.
                made.remove(backup)
                _note(error, f"could not put back {str(target)!r}; its old contents are in "
                             f"{str(backup)!r}")
        elif not old:  # there was no old file: the new one goes
            _remove_quietly(target)


def _despite_interrupts(action: Callable[[], object]) -> KeyboardInterrupt | None:
    """Run a clean-up action to its end even if Ctrl-C lands in it, by running it again (it
    must be idempotent); returns the interrupt, for the caller to raise once the files are
    whole."""
    interrupt = None
    for _ in range(_CLEANUP_TRIES):
        try:
            action()
            break
        except KeyboardInterrupt as err:
            interrupt = err
    return interrupt


def _note(error: BaseException, text: str) -> None:
    if hasattr(error, "add_note"):  # Python 3.11+
        error.add_note(text)


def _backup(target: Path, made: list[Path]) -> Path:
    """A second name for target's old file: a hard link, or a synced copy (owner, group and
    bits included) where links are refused. Raises if neither can be made, before any rename,
    so a set that could not be put back is never started."""
    link = _sibling(target, ".old")
    made.append(link)
    try:
        os.link(target, link)
        return link
    except OSError:
        made.remove(link)  # link() made nothing (an EEXIST name is another's)
    old = os.stat(target)
    fd, copy = _create(target, ".old", made)
    with open(target, "rb") as source:
        data = source.read()
    _write_synced(fd, data, old)
    return copy


def _remove_each(paths: list[Path]) -> None:
    for path in paths:
        _remove_quietly(path)


def _remove_quietly(path: Path) -> None:
    # Cleanup after a failure must never replace the exception that caused it.
    with contextlib.suppress(OSError):
        os.unlink(path)


def read_regular(path: PathLike, max_bytes: int) -> bytes:
    """The bytes of the regular file at path, at most max_bytes of them: a FIFO, a device or a
    folder raises ValueError at once (never waits for a writer, never reads /dev/zero forever),
    and so does a file larger than max_bytes."""
    # O_NONBLOCK: opening a FIFO that has no writer returns at once instead of waiting for one;
    # on a regular file it changes nothing.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(_as_path(path, "a file"), flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{str(path)!r} is {_kind(mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb") as source:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{str(path)!r} is larger than {max_bytes} bytes, the limit here")
    return data
