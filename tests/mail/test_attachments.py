"""AttachmentStore on a real folder: generated names only, content-addressed, names for display."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mail.attachments import (
    MAX_DISPLAY_NAME,
    AttachmentError,
    AttachmentStore,
    display_name,
    extension_for,
    is_generated_name,
)
from mail.errors import MailError

PDF = b"%PDF-1.4 a scanned discharge letter"


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd",
        "..\\..\\Windows\\system.ini",
        "/etc/shadow",
        "letter\x00\x1b[31m\r\nBcc: x@example.org.pdf",
        "invoice\u202efdp.exe",
        "a" * 300 + ".pdf",
        "",
        "..",
    ],
)
def test_hostile_filenames_are_stored_inside_root_under_a_generated_name(
    tmp_path: Path, filename: str
) -> None:
    root = tmp_path / "attachments"
    stored = AttachmentStore(root).save(PDF, filename=filename, content_type="application/pdf")
    (written,) = stored_files(tmp_path)
    assert written.resolve().is_relative_to(root.resolve())
    assert written.name == stored.name == hashlib.sha256(PDF).hexdigest() + ".pdf"
    assert written.read_bytes() == PDF
    assert stored.size == len(PDF) and stored.sha256 == hashlib.sha256(PDF).hexdigest()
    shown = stored.original_filename
    assert shown and len(shown) <= MAX_DISPLAY_NAME
    assert "/" not in shown and "\\" not in shown
    assert all(char.isprintable() for char in shown) and "\u202e" not in shown


def test_display_names_keep_what_a_person_would_recognise() -> None:
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\jo\\Documents\\Complaint letter.docx") == "Complaint letter.docx"
    assert display_name("bad\x07\x1b name\r\n.pdf") == "bad name.pdf"
    assert display_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert display_name("lettre r\u00e9sum\u00e9.pdf") == "lettre r\u00e9sum\u00e9.pdf"
    assert display_name("\x00\x01") == display_name("..") == display_name("") == "attachment"
    long = display_name("x" * 300 + ".pdf")
    assert len(long) == MAX_DISPLAY_NAME and long.endswith("\u2026.pdf")


def test_same_bytes_twice_are_stored_once(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    first = store.save(PDF, filename="scan.pdf", content_type="application/pdf")
    second = store.save(PDF, filename="copy of scan.pdf", content_type="Application/PDF; name=x")
    assert first.name == second.name
    assert (first.original_filename, second.original_filename) == ("scan.pdf", "copy of scan.pdf")
    assert len(stored_files(tmp_path)) == 1


def test_extension_comes_from_the_content_type_never_the_filename(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    exe = store.save(b"MZ\x90\x00", filename="photo.jpg", content_type="application/x-msdownload")
    jpeg = store.save(b"\xff\xd8\xff", filename="evil.exe", content_type="image/jpeg")
    odd = store.save(b"?", filename="x.pdf", content_type="garbage")
    assert exe.name.endswith(".bin") and jpeg.name.endswith(".jpg") and odd.name.endswith(".bin")
    assert odd.content_type == "application/octet-stream"
    assert extension_for("text/html") == ".bin"  # never something a browser would run


def test_files_are_private_to_this_user(tmp_path: Path) -> None:
    stored = AttachmentStore(tmp_path / "a").save(PDF, filename="x", content_type="application/pdf")
    path = AttachmentStore(tmp_path / "a").path(stored.name)
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0


def test_path_and_remove(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    stored = store.save(PDF, filename="scan.pdf", content_type="application/pdf")
    assert store.path(stored.name).read_bytes() == PDF
    store.remove(stored.name)
    assert stored_files(tmp_path) == []
    store.remove(stored.name)  # already gone: nothing to do


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "passwd",
        "",
        "a" * 64,
        "a" * 64 + ".exe",
        "A" * 64 + ".pdf",
        "a" * 63 + ".pdf",
        "a" * 64 + ".pdf/../x",
        "a" * 64 + ".pdf.bin",
        "../" + "a" * 61 + ".pdf",
        "g" * 64 + ".pdf",
    ],
)
def test_path_refuses_names_it_did_not_generate(tmp_path: Path, name: str) -> None:
    store = AttachmentStore(tmp_path)
    assert not is_generated_name(name)
    with pytest.raises(AttachmentError) as caught:
        store.path(name)
    assert isinstance(caught.value, MailError) and caught.value.context == {"name": name}
    with pytest.raises(AttachmentError):
        store.remove(name)


def test_a_damaged_copy_is_replaced(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    stored = store.save(PDF, filename="a.pdf", content_type="application/pdf")
    path = store.path(stored.name)
    os.truncate(path, 3)
    store.save(PDF, filename="a.pdf", content_type="application/pdf")
    assert path.read_bytes() == PDF
