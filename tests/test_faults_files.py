"""Faults injected into file writing and checkpoint loading (issue 12, items 3-6, 9, 10): the
one atomic writer, sets of files, checkpoints that must match their model, hostile files."""

import copy
import errno
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
from contextlib import contextmanager

import pytest

from autograd_core import Value, save_steps
from autograd_core import files as files_module
from autograd_core.files import check_target, write_atomic, write_files
from autograd_core.nn import MLP, CheckpointError
from autograd_core.nn import recipes as recipes_module


def _entries(folder):
    return sorted(p.name for p in folder.iterdir())


@contextmanager
def _no_hang(seconds=10):
    # A guard, not a timing assertion: a regression that blocks fails instead of hanging CI.
    def stop(*_):
        raise TimeoutError("blocked: the call waited instead of refusing")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- the writer: the original error, never a cleanup error ----------------------------------

def test_rename_that_raises_is_reported_as_itself_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_bytes(b"old")

    def denied(*_):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files_module.os, "replace", denied)
    with pytest.raises(PermissionError, match="Permission denied"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["m.json"]


def test_full_disk_at_sync_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "g.svg"
    path.write_bytes(b"old")

    def full(_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files_module.os, "fsync", full)
    with pytest.raises(OSError, match="No space left") as info:
        write_atomic(path, b"new")
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["g.svg"]


class _Failing:
    """A file object whose write raises `error`, standing in for the temp file."""

    def __init__(self, real, error):
        self.real, self.error = real, error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()

    def fileno(self):
        return self.real.fileno()

    def write(self, data):
        self.real.write(data[: len(data) // 2])  # half written, then the fault
        raise self.error

    def flush(self):
        self.real.flush()


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   KeyboardInterrupt()])
def test_fault_mid_write_propagates_unchanged_and_keeps_the_old_file(tmp_path, monkeypatch,
                                                                     error):
    path = tmp_path / "m.json"
    path.write_bytes(b"old")
    monkeypatch.setattr(files_module, "open", lambda fd, mode: _Failing(open(fd, mode), error),
                        raising=False)
    with pytest.raises(type(error)):
        write_atomic(path, b"new contents")
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["m.json"]


def test_ctrl_c_just_after_the_rename_is_a_keyboard_interrupt_not_an_oserror(tmp_path,
                                                                             monkeypatch):
    path = tmp_path / "m.json"
    real_replace = os.replace

    def replace_then_interrupt(src, dst):
        real_replace(src, dst)
        raise KeyboardInterrupt

    monkeypatch.setattr(files_module.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _entries(tmp_path) == ["m.json"]


def test_a_failing_cleanup_never_replaces_the_error(tmp_path, monkeypatch):
    def denied(*_):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files_module.os, "replace", denied)
    monkeypatch.setattr(files_module.os, "unlink", lambda *_: (_ for _ in ()).throw(
        OSError(errno.EBUSY, "Device or resource busy")))
    with pytest.raises(PermissionError):
        write_atomic(tmp_path / "m.json", b"new")


# --- the writer: targets ----------------------------------------------------------------------

def test_fifo_target_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with _no_hang(), pytest.raises(ValueError, match="FIFO"):
        MLP(2, [1]).save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def _device(tmp_path):
    # A null device of our own: a test must never aim at the machine's /dev/null, since a
    # writer with the bug (run as root) would replace it.
    node = tmp_path / "null.json"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return node


def test_device_node_is_never_replaced(tmp_path):
    node = _device(tmp_path)
    with pytest.raises(ValueError, match="character device"):
        write_atomic(node, b"x")
    link = tmp_path / "link.json"
    link.symlink_to(node)
    with pytest.raises(ValueError, match="character device, not a regular file"):
        MLP(2, [1]).save(link)
    assert stat.S_ISCHR(os.lstat(node).st_mode) and link.is_symlink()


def test_symlink_is_followed_and_kept(tmp_path):
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "m.json"
    real.write_bytes(b"old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"
    assert _entries(tmp_path / "runs") == ["m.json"]


def test_dangling_symlink_creates_the_file_it_names(tmp_path):
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "m.json")
    write_atomic(link, b"new")
    assert link.is_symlink() and (tmp_path / "m.json").read_bytes() == b"new"


def test_existing_mode_is_kept_and_umask_read_by_the_kernel_not_changed(tmp_path, monkeypatch):
    private = MLP(2, [1]).save(tmp_path / "private.json")
    private.chmod(0o600)
    old_umask = os.umask(0o077)  # set after import: it must still be honoured
    try:
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("the umask was changed"))
        fresh = write_atomic(tmp_path / "fresh.json", b"new")
        monkeypatch.undo()
        os.umask(0o022)  # a 0600 file stays 0600 under a wider umask
        MLP(2, [1]).save(private)
    finally:
        monkeypatch.undo()
        os.umask(old_umask)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600  # 0666 less umask 077


def test_longest_valid_name_is_written_and_one_longer_is_named(tmp_path):
    name = "m" * 250 + ".json"  # 255 bytes: valid, so its temp name must fit as well
    assert write_atomic(tmp_path / name, b"x").read_bytes() == b"x"
    assert _entries(tmp_path) == [name]
    with pytest.raises(ValueError, match="256 bytes long"):
        write_atomic(tmp_path / ("m" + name), b"x")


def test_multibyte_name_cut_for_the_temp_still_writes(tmp_path):
    name = "é" * 125 + ".svg"  # 254 bytes, two per character
    write_atomic(tmp_path / name, b"x")
    assert _entries(tmp_path) == [name]


@pytest.mark.parametrize("path, words", [
    ("", "empty path"), ("afile/g.svg", "'afile' is a file, not a folder"),
    ("sub/", "names a folder"),
])
def test_bad_targets_are_named(tmp_path, monkeypatch, path, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    with pytest.raises(ValueError, match=words):
        check_target(path)


# --- sets of files: all or none -----------------------------------------------------------

def _fail_on_call(monkeypatch, n, error=OSError(errno.EIO, "Input/output error")):
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == n:
            raise error
        real_replace(src, dst)

    monkeypatch.setattr(files_module.os, "replace", replace)
    return calls


@pytest.mark.parametrize("error", [OSError(errno.EIO, "Input/output error"), KeyboardInterrupt()])
def test_a_set_that_fails_part_way_is_put_back(tmp_path, monkeypatch, error):
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.json"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")  # c is new in this run
    _fail_on_call(monkeypatch, 3, error)
    with pytest.raises(type(error)):
        write_files({a: b"new a", c: b"new c", b: b"new b"})
    assert a.read_bytes() == b"old a" and b.read_bytes() == b"old b" and not c.exists()
    assert _entries(tmp_path) == ["a.png", "b.png"]


def test_a_set_that_fails_while_staging_replaces_nothing(tmp_path, monkeypatch):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")
    real_open, opened = os.open, []

    def open_twice(path, flags, mode=0o777):
        opened.append(path)
        if len(opened) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, flags, mode)

    monkeypatch.setattr(files_module.os, "open", open_twice)
    with pytest.raises(OSError, match="No space"):
        write_files({a: b"new a", b: b"new b"})
    assert (a.read_bytes(), b.read_bytes()) == (b"old a", b"old b")
    assert _entries(tmp_path) == ["a.png", "b.png"]


def test_train_out_files_are_one_set(tmp_path, monkeypatch):
    first = recipes_module.train("xor", tmp_path, steps=1, seed=1, progress=False, resolution=4)
    old = {p.name: p.read_bytes() for p in first.files}
    _fail_on_call(monkeypatch, 3)  # the model, after both pictures were renamed
    with pytest.raises(OSError):
        recipes_module.train("xor", tmp_path, steps=2, seed=2, progress=False, resolution=4)
    assert {p.name: p.read_bytes() for p in first.files} == old
    assert _entries(tmp_path) == sorted(old)


def test_steps_frames_and_page_are_one_set(tmp_path, monkeypatch):
    x = Value(2.0, "x")
    f = x * x + x
    page = save_steps(f, tmp_path / "steps")
    old = {p.name: p.read_bytes() for p in page.parent.iterdir()}
    y = Value(3.0, "y")
    g = y * y + y  # same shape, other numbers: every frame differs
    calls = _fail_on_call(monkeypatch, len(old))  # the page, after every frame
    with pytest.raises(OSError):
        save_steps(g, tmp_path / "steps")
    assert calls[len(old) - 1].name == "steps.html"  # later calls are the roll-back
    assert {p.name: p.read_bytes() for p in page.parent.iterdir()} == old


# --- checkpoints: architecture, save validates like load -------------------------------------

@pytest.mark.parametrize("other", [
    MLP(3, [4, 2], activation="tanh", seed=0),
    MLP(3, [4, 2], output_activation="sigmoid", seed=0),
])
def test_checkpoint_of_another_activation_is_refused_naming_both(tmp_path, other):
    path = MLP(3, [4, 2], seed=1).save(tmp_path / "m.json")
    before = other.state_dict()
    with pytest.raises(CheckpointError) as info:
        other.load(path)
    assert ("holds MLP(3 → 4 → 2, activation='relu', output_activation='linear'), but this "
            "model is " + repr(other)) in str(info.value)
    assert other.state_dict() == before


def test_a_changed_sub_module_is_named(tmp_path):
    path = MLP(3, [4, 2], seed=1).save(tmp_path / "m.json")
    model = MLP(3, [4, 2], seed=1)
    model.layers[1].neurons[1].activation = "tanh"  # a repr of the MLP cannot show this
    with pytest.raises(CheckpointError, match=r"'layers.1.neurons.1: Neuron\(4, linear\)' where "
                                              r"this model has 'layers.1.neurons.1: Neuron"):
        model.load(path)


def test_checkpoint_without_architecture_still_loads_and_checks_its_repr(tmp_path):
    path = MLP(3, [4, 2], seed=1).save(tmp_path / "m.json")
    doc = json.loads(path.read_text())
    del doc["architecture"]  # as files written before it was recorded
    path.write_text(json.dumps(doc))
    assert MLP(3, [4, 2], seed=2).load(path).state_dict() == MLP(3, [4, 2], seed=1).state_dict()
    with pytest.raises(CheckpointError, match="but this model is MLP"):
        MLP(3, [4, 2], activation="tanh").load(path)


@pytest.mark.parametrize("bad", ["0.5", 10**400, float("nan"), True])
def test_save_refuses_what_load_would_refuse_before_touching_the_file(tmp_path, bad):
    path = MLP(2, [1], seed=1).save(tmp_path / "m.json")
    old = path.read_bytes()
    model = MLP(2, [1], seed=2)
    with pytest.raises((TypeError, ValueError), match="data"):
        model.parameters()[1].data = bad  # refused at once, since the engine checks data
    model.parameters()[1]._data = bad  # forced past that check: save still refuses it
    with pytest.raises(CheckpointError, match="refusing to save MLP.2 → 1, [^)]*.: "
                                              "parameters must be finite numbers, got "
                                              "layers.0.neurons.0.w.1="):
        model.save(path)
    assert path.read_bytes() == old and _entries(tmp_path) == ["m.json"]


# --- checkpoints: hostile files are bounded ---------------------------------------------------

def _load_raises(path, words, **kwargs):
    model = MLP(2, [1], seed=2)
    before = model.state_dict()
    with _no_hang(), pytest.raises(CheckpointError) as info:
        model.load(path, **kwargs)
    assert words in str(info.value), str(info.value)
    assert model.state_dict() == before
    return str(info.value)


def test_fifo_with_no_writer_is_refused_not_waited_for(tmp_path):
    fifo = tmp_path / "m.json"
    os.mkfifo(fifo)
    _load_raises(fifo, "is a FIFO (named pipe), not a regular file")


def test_dev_zero_is_refused_not_read_forever():
    # In a child whose memory is capped: a reader with the bug fails fast there instead of
    # taking this machine's memory.
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31))\n"
            "from autograd_core.nn import MLP, CheckpointError\n"
            "try:\n    MLP(2, [1]).load('/dev/zero')\n"
            "except CheckpointError as err:\n    print(err)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout == ("cannot load '/dev/zero' is a character device, not a regular "
                           "file\n"), done.stderr[-300:]


def test_a_folder_is_refused(tmp_path):
    _load_raises(tmp_path, "is a folder, not a regular file")


def test_a_file_over_the_cap_is_refused_before_parsing(tmp_path):
    path = MLP(2, [1], seed=1).save(tmp_path / "m.json")
    _load_raises(path, "is larger than 100 bytes", max_bytes=100)
    MLP(2, [1]).load(path, max_bytes=path.stat().st_size)  # exactly at the cap is fine


def test_nesting_bomb_is_a_checkpoint_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    message = _load_raises(path, "nested too deeply")
    assert str(path) in message


def test_duplicate_keys_are_refused(tmp_path):
    path = MLP(2, [1], seed=1).save(tmp_path / "m.json")
    text = path.read_text()
    name = "layers.0.neurons.0.b"
    path.write_text(text.replace('"parameters": {', f'"parameters": {{\n  "{name}": 0.5,', 1))
    _load_raises(path, f"key '{name}' appears twice")


def test_huge_integer_is_named_with_the_file(tmp_path):
    path = MLP(2, [1], seed=1).save(tmp_path / "m.json")
    doc = path.read_text()
    start = doc.index('.b": ') + len('.b": ')
    end = doc.index("\n", start)
    path.write_text(doc[:start] + "9" * 5000 + doc[end:])
    message = _load_raises(path, "an integer of 5000 digits")
    assert str(path) in message


def test_utf8_bom_is_reported_as_a_bom(tmp_path):
    path = MLP(2, [1], seed=1).save(tmp_path / "m.json")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    message = _load_raises(path, "byte-order mark")
    assert "truncated" not in message


def test_invalid_utf8_names_the_byte(tmp_path):
    path = MLP(2, [1], seed=1).save(tmp_path / "m.json")
    path.write_bytes(path.read_bytes().replace(b"format", b"f\xffrmat", 1))
    _load_raises(path, "not UTF-8 text: byte 0xff at offset")


def test_syntax_error_in_the_middle_is_not_called_truncated(tmp_path):
    path = MLP(2, [1], seed=1).save(tmp_path / "m.json")
    path.write_text(path.read_text().replace(":", ";", 1))
    message = _load_raises(path, "is not a valid checkpoint")
    assert "truncated" not in message


# --- models pickle and copy -----------------------------------------------------------------

def test_model_pickles_and_predicts_the_same():
    model = MLP(3, [4, 2], activation="tanh", seed=1)
    clone = pickle.loads(pickle.dumps(model))
    assert repr(clone) == repr(model) and clone.state_dict() == model.state_dict()
    x = [0.1, -0.2, 0.3]
    assert [v.data for v in clone(x)] == [v.data for v in model(x)]


def test_deepcopy_is_independent():
    model = MLP(2, [3, 1], seed=1)
    clone = copy.deepcopy(model)
    clone.parameters()[0].data += 1.0
    assert clone.state_dict() != model.state_dict()
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]


# --- every stage, every fault (issue 21): all or none, no strays, with or without links -----

_WATCHED = ("open", "fchmod", "fchown", "fsync", "link", "replace", "unlink", "stat", "lstat")


def _inject(monkeypatch, at=None, when="before", error=KeyboardInterrupt, link_errno=None):
    """Wrap the os calls the writer makes; the at-th call (counting from 1) raises `error`
    before or after doing its work. link_errno: os.link always refuses, as where hard links
    do not work. Returns the list of calls made, by name."""
    calls = []

    def wrap(name, real):
        def fake(*args, **kwargs):
            calls.append(name)
            if len(calls) == at and when == "before":
                raise error()
            try:
                if name == "link" and link_errno is not None:
                    raise OSError(link_errno, os.strerror(link_errno))
                result = real(*args, **kwargs)
            finally:  # even when the call itself failed (an lstat of a new file)
                if len(calls) == at:
                    raise error()
            return result
        return fake

    for name in _WATCHED:
        monkeypatch.setattr(files_module.os, name, wrap(name, getattr(os, name)))
    return calls


def _old_set(folder):
    folder.mkdir()
    (folder / "a.png").write_bytes(b"old a")
    (folder / "b.png").write_bytes(b"old b")  # c.json is new in this run
    return {folder / "a.png": b"new a", folder / "c.json": b"new c", folder / "b.png": b"new b"}


def _is_whole(folder):
    """All old (and no c.json) or all new, and nothing else in the folder."""
    names = _entries(folder)
    if names == ["a.png", "b.png"]:
        return [(folder / n).read_bytes() for n in names] == [b"old a", b"old b"]
    return names == ["a.png", "b.png", "c.json"] and [
        (folder / n).read_bytes() for n in names] == [b"new a", b"new b", b"new c"]


@pytest.mark.parametrize("link_errno", [None, errno.EPERM, errno.ENOTSUP, errno.EXDEV],
                         ids=["links", "EPERM", "ENOTSUP", "EXDEV"])
def test_a_set_is_whole_after_ctrl_c_at_every_call(tmp_path, monkeypatch, link_errno):
    clean = _old_set(tmp_path / "clean")
    calls = _inject(monkeypatch, link_errno=link_errno)
    write_files(clean)
    monkeypatch.undo()
    assert _is_whole(tmp_path / "clean") and (tmp_path / "clean" / "c.json").exists()
    assert ("link" in calls) and len(calls) > 10
    for at in range(1, len(calls) + 1):
        for when in ("before", "after"):
            folder = tmp_path / f"{at}-{when}"
            files = _old_set(folder)
            _inject(monkeypatch, at, when, link_errno=link_errno)
            with pytest.raises(KeyboardInterrupt):
                try:
                    write_files(files)
                finally:
                    monkeypatch.undo()
                    where = (at, calls[at - 1], when)
            assert _is_whole(folder), (where, _entries(folder))


@pytest.mark.parametrize("link_errno", [None, errno.EPERM], ids=["links", "EPERM"])
def test_a_set_is_whole_after_an_os_error_at_every_call_but_cleanup(tmp_path, monkeypatch,
                                                                    link_errno):
    calls = _inject(monkeypatch, link_errno=link_errno)
    write_files(_old_set(tmp_path / "clean"))
    monkeypatch.undo()
    for at, name in enumerate(calls, 1):
        if name == "unlink":  # a removal that fails leaves its file: nothing can help that
            continue
        folder = tmp_path / f"{at}"
        files = _old_set(folder)
        _inject(monkeypatch, at, error=lambda: OSError(errno.EIO, "Input/output error"),
                link_errno=link_errno)
        try:  # an error some callers take in their stride (realpath's lstat, link) may not come
            write_files(files)
            written = True
        except OSError:
            written = False
        monkeypatch.undo()
        assert _is_whole(folder), (at, name, _entries(folder))
        assert (folder / "c.json").exists() == written, (at, name)


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTSUP, errno.EXDEV],
                         ids=["EPERM", "ENOTSUP", "EXDEV"])
def test_without_hard_links_a_failed_rename_still_puts_the_old_files_back(tmp_path, monkeypatch,
                                                                        code):
    files = _old_set(tmp_path / "set")
    _inject(monkeypatch, link_errno=code)
    _fail_on_call(monkeypatch, 3)  # b.png, after a.png and c.json were renamed
    with pytest.raises(OSError, match="Input/output"):
        write_files(files)
    assert _entries(tmp_path / "set") == ["a.png", "b.png"]
    assert _is_whole(tmp_path / "set")


def test_a_backup_copy_that_cannot_be_written_stops_before_any_rename(tmp_path, monkeypatch):
    files = _old_set(tmp_path / "set")
    _inject(monkeypatch, link_errno=errno.EPERM)
    real_fsync, synced = os.fsync, []

    def full_at_the_backup(fd):
        synced.append(fd)
        if len(synced) == 4:  # three temporaries, then the first backup copy
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files_module.os, "fsync", full_at_the_backup)
    with pytest.raises(OSError, match="No space"):
        write_files(files)
    assert _entries(tmp_path / "set") == ["a.png", "b.png"] and _is_whole(tmp_path / "set")


def test_a_backup_that_cannot_be_put_back_is_kept_and_named(tmp_path, monkeypatch):
    files = _old_set(tmp_path / "set")
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) >= 3:  # b.png fails, and so does putting a.png back
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(files_module.os, "replace", replace)
    with pytest.raises(OSError) as info:
        write_files(files)
    kept = [n for n in _entries(tmp_path / "set") if n.endswith(".old")]
    assert len(kept) == 1 and (tmp_path / "set" / kept[0]).read_bytes() == b"old a"
    assert kept[0] in "\n".join(getattr(info.value, "__notes__", [])) or sys.version_info < (3, 11)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("link_errno", [None, errno.EPERM], ids=["links", "EPERM"])
def test_root_rewriting_a_users_file_leaves_it_the_users(tmp_path, monkeypatch, link_errno):
    path = tmp_path / "model.json"
    path.write_bytes(b"old")
    os.chown(path, 12345, 23456)
    os.chmod(path, 0o640)
    _inject(monkeypatch, link_errno=link_errno)
    write_files({path: b"new", tmp_path / "other": b"x"})
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (12345, 23456, 0o640)
    assert path.read_bytes() == b"new"


def test_a_user_who_may_not_chown_still_writes_the_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    monkeypatch.setattr(files_module.os, "geteuid", lambda: os.getuid() + 1)  # "not the owner"

    def refused(*_):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(files_module.os, "fchown", refused)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o600
