"""Secret-file writers: --output-file semantics (contract §10.2) and the token-store write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from link_cli._secret_files import (
    SecretFileError,
    SecretFileExistsError,
    SecretFileSymlinkError,
    SecretFileWriteError,
    atomic_write_private,
    write_secret_file,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- write_secret_file (--output-file) ---------------------------------------------------


def test_creates_file_with_mode_0600_and_returns_absolute_path(tmp_path: Path) -> None:
    target = tmp_path / "card.json"
    result = write_secret_file(target, '{"number": "4242"}')
    assert result == str(target)
    assert target.read_text() == '{"number": "4242"}'
    assert mode_of(target) == 0o600


def test_relative_path_is_resolved_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = write_secret_file("out.json", "x")
    assert result == str(tmp_path / "out.json")
    assert os.path.isabs(result)


def test_existing_file_without_force_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "card.json"
    target.write_text("old")
    with pytest.raises(SecretFileExistsError) as caught:
        write_secret_file(target, "new")
    assert str(caught.value) == (
        f"OUTPUT_FILE_EXISTS: {target} already exists. Use --force to overwrite."
    )
    assert target.read_text() == "old"


def test_force_overwrites_and_the_result_is_0600(tmp_path: Path) -> None:
    target = tmp_path / "card.json"
    target.write_text("old")
    target.chmod(0o644)
    write_secret_file(target, "new", force=True)
    assert target.read_text() == "new"
    assert mode_of(target) == 0o600


@pytest.mark.parametrize("force", [False, True])
def test_symlink_is_refused_and_its_target_untouched(tmp_path: Path, force: bool) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "link.json"
    link.symlink_to(victim)
    with pytest.raises(SecretFileSymlinkError) as caught:
        write_secret_file(link, "secret", force=force)
    assert str(caught.value) == (
        f"OUTPUT_FILE_SYMLINK: {link} is a symbolic link. Refusing to write credentials through it."
    )
    assert victim.read_text() == "precious"
    assert link.is_symlink()


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "does-not-exist")
    with pytest.raises(SecretFileSymlinkError):
        write_secret_file(link, "secret", force=True)
    assert not (tmp_path / "does-not-exist").exists()


def test_missing_directory_is_a_write_error_naming_the_path(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "card.json"
    with pytest.raises(SecretFileWriteError) as caught:
        write_secret_file(target, "x")
    assert str(target) in str(caught.value)
    assert not str(caught.value).startswith("OUTPUT_FILE_EXISTS")


def test_all_errors_share_one_base(tmp_path: Path) -> None:
    target = tmp_path / "card.json"
    target.write_text("old")
    with pytest.raises(SecretFileError) as caught:
        write_secret_file(target, "new")
    assert caught.value.path == str(target)


# --- atomic_write_private (token store) ---------------------------------------------------


def test_atomic_write_creates_parents_0700_and_file_0600(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "link-cli" / "config.json"
    atomic_write_private(target, '{\n\t"auth": null\n}')
    assert target.read_text() == '{\n\t"auth": null\n}'
    assert mode_of(target) == 0o600
    assert mode_of(target.parent) == 0o700


def test_atomic_write_replaces_content_and_repairs_0644(tmp_path: Path) -> None:
    target = tmp_path / "config.json"
    target.write_text("old content that is longer than the new one")
    target.chmod(0o644)
    atomic_write_private(target, "new")
    assert target.read_text() == "new"
    assert mode_of(target) == 0o600


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "config.json"
    for i in range(3):
        atomic_write_private(target, str(i))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_atomic_write_refuses_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "config.json"
    link.symlink_to(victim)
    with pytest.raises(SecretFileSymlinkError):
        atomic_write_private(link, "tokens")
    assert victim.read_text() == "precious"
    assert link.is_symlink()


def test_atomic_write_below_a_regular_file_is_a_write_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(SecretFileWriteError) as caught:
        atomic_write_private(blocker / "config.json", "tokens")
    assert str(blocker / "config.json") in str(caught.value)
    assert blocker.read_text() == "x"
