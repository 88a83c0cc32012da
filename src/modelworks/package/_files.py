"""File-level safety of a package: names, sizes, hashes, and single-file archives.

Everything here runs before any model bytes are parsed: a package whose file list, sizes or
hashes do not match its manifest is refused before a deserializer sees it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from modelworks.exceptions import IntegrityError, PackageError, UnsafePackageError

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 8 * 1024**2  # a manifest is a few kB; the schema of 10,000 columns fits
MAX_PACKAGE_BYTES = 4 * 1024**3  # per package, all files together
MAX_FILES = 10_000
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check_name(name: object, where: str) -> str:
    """A member name must be a plain relative POSIX path inside the package."""
    if not isinstance(name, str) or not name or len(name) > 255 or "\x00" in name or "\\" in name:
        raise UnsafePackageError(f"{where}: invalid file name {name!r} in the package")
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")) or ":" in p.parts[0]:
        raise UnsafePackageError(
            f"{where}: file name {name!r} points outside the package (path traversal); refusing to load"
        )
    return name


def list_files(root: Path) -> dict[str, int]:
    """Every regular file under ``root`` (relative POSIX name -> size); refuses links and devices."""
    found: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            st = os.lstat(full)
            rel = full.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                raise UnsafePackageError(f"'{rel}' in {root} is a symbolic link; packages hold plain files only")
            if stat.S_ISDIR(st.st_mode):
                continue
            if not stat.S_ISREG(st.st_mode):
                raise UnsafePackageError(f"'{rel}' in {root} is not a regular file; refusing to load")
            found[rel] = st.st_size
            if len(found) > MAX_FILES:
                raise UnsafePackageError(f"{root} holds more than {MAX_FILES} files; not a model package")
    return found


def verify_files(root: Path, files: dict, *, max_bytes: int) -> None:
    """Check that ``root`` holds exactly the files the manifest lists, with their sizes and hashes."""
    present = list_files(root)
    present.pop(MANIFEST, None)
    unexpected = sorted(set(present) - set(files))
    if unexpected:
        raise UnsafePackageError(
            f"{root} holds files its manifest does not list: {', '.join(unexpected[:10])}; "
            "refusing to load (a package may hold only the files it was saved with)"
        )
    missing = sorted(set(files) - set(present))
    if missing:
        raise IntegrityError(f"{root} is missing files listed in its manifest: {', '.join(missing[:10])}")
    for name, entry in files.items():
        if present[name] != entry["bytes"]:
            raise IntegrityError(
                f"'{name}' in {root} has {present[name]:,} bytes but the manifest says {entry['bytes']:,}: "
                "the package was modified or is incomplete"
            )
    total = sum(present.values())
    if total > max_bytes:
        raise UnsafePackageError(
            f"{root} holds {total:,} bytes, over the limit of {max_bytes:,} (pass max_bytes= to raise it)"
        )
    for name, entry in files.items():
        if sha256_file(root / name) != entry["sha256"]:
            raise IntegrityError(
                f"'{name}' in {root} does not match the SHA-256 in its manifest: the package was modified "
                "or corrupted; re-export it from the source"
            )


def read_limited(path: Path, limit: int, what: str) -> bytes:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise PackageError(f"{path.parent} has no {path.name}; it is not a modelworks package") from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise UnsafePackageError(f"{path} is not a regular file; refusing to read the {what}")
    if st.st_size > limit:
        raise UnsafePackageError(f"the {what} {path} has {st.st_size:,} bytes, over the limit of {limit:,}")
    return path.read_bytes()


# ---------------------------------------------------------------------------------- archives


def is_archive(path: Path) -> bool:
    return path.is_file() and zipfile.is_zipfile(path)


def _members(zf: zipfile.ZipFile, where: Path, max_bytes: int) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_FILES:
        raise UnsafePackageError(f"{where} holds more than {MAX_FILES} members; not a model package")
    seen, total = set(), 0
    for info in infos:
        if info.is_dir():
            check_name(info.filename.rstrip("/"), str(where))
            continue
        check_name(info.filename, str(where))
        mode = (info.external_attr >> 16) & 0o170000
        if mode and mode != stat.S_IFREG:
            raise UnsafePackageError(f"member '{info.filename}' of {where} is a link or special file; refusing")
        if info.filename in seen:
            raise UnsafePackageError(f"{where} holds '{info.filename}' twice; refusing an ambiguous archive")
        if info.flag_bits & 0x1:
            raise PackageError(f"member '{info.filename}' of {where} is encrypted; not a modelworks package")
        seen.add(info.filename)
        total += info.file_size
        if total > max_bytes:
            raise UnsafePackageError(
                f"{where} expands to more than {max_bytes:,} bytes (pass max_bytes= to raise the limit)"
            )
    return [i for i in infos if not i.is_dir()]


def read_archive_manifest(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(MANIFEST)
            if info.file_size > MAX_MANIFEST_BYTES:
                raise UnsafePackageError(f"the manifest in {path} is {info.file_size:,} bytes; over the limit")
            return _read_member(zf, info, path)
    except PackageError:
        raise
    except KeyError:
        raise PackageError(f"{path} has no {MANIFEST}; it is not a modelworks package archive") from None
    except Exception as e:  # zlib.error, struct.error, BadZipFile, EOFError...: all mean a damaged file
        raise PackageError(f"{path} is not a readable package archive: {type(e).__name__}: {e}") from e


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: Path) -> bytes:
    # read at most the declared size + 1: a member that inflates beyond its header is refused
    with zf.open(info) as f:
        data = f.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise IntegrityError(f"member '{info.filename}' of {where} does not have its declared size")
    return data


def extract_archive(path: Path, dest: Path, *, max_bytes: int) -> None:
    """Extract a package archive into the empty directory ``dest`` after checking every member."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in _members(zf, path, max_bytes):
                target = dest / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_read_member(zf, info, path))
    except PackageError:
        raise
    except Exception as e:  # zlib.error, struct.error, BadZipFile, EOFError...: all mean a damaged file
        raise PackageError(f"{path} is not a readable package archive: {type(e).__name__}: {e}") from e


_DIGEST_LEN = 64
_EOCD_LEN = 22


def write_archive(src: Path, dest: Path) -> None:
    """Zip the package directory ``src`` into the single file ``dest`` (manifest first).

    The zip comment is the SHA-256 of every byte before it, so any change to the archive —
    including zip headers that do not affect the members' content — is detected before parsing.
    """
    names = sorted(list_files(src), key=lambda n: (n != MANIFEST, n))
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.write(src / name, name)
        zf.comment = b"0" * _DIGEST_LEN
    sign_archive(dest)


def sign_archive(dest: Path) -> None:
    """Overwrite the 64-byte zip comment of ``dest`` with the SHA-256 of every byte before it."""
    with open(dest, "r+b") as f:
        h = hashlib.sha256()
        size = f.seek(0, os.SEEK_END)
        f.seek(0)
        remaining = size - _DIGEST_LEN
        while remaining > 0:
            chunk = f.read(min(_CHUNK, remaining))
            h.update(chunk)
            remaining -= len(chunk)
        f.write(h.hexdigest().encode())


def verify_archive(path: Path, *, max_bytes: int) -> None:
    """Check the archive's trailing SHA-256 (see :func:`write_archive`) before any zip parsing."""
    size = path.stat().st_size
    if size > max_bytes:
        raise UnsafePackageError(f"{path} has {size:,} bytes, over the limit of {max_bytes:,} (pass max_bytes=)")
    if size < _EOCD_LEN + _DIGEST_LEN + 4:
        raise PackageError(f"{path} is too small to be a package archive")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise PackageError(f"{path} does not start like a package archive; it is damaged or not a package")
        f.seek(0)
        remaining = size - _DIGEST_LEN
        while remaining > 0:
            chunk = f.read(min(_CHUNK, remaining))
            if not chunk:
                break
            h.update(chunk)
            remaining -= len(chunk)
        f.seek(size - _DIGEST_LEN - _EOCD_LEN)
        eocd = f.read(_EOCD_LEN)
        digest = f.read(_DIGEST_LEN)
    if eocd[:4] != b"PK\x05\x06" or int.from_bytes(eocd[20:22], "little") != _DIGEST_LEN:
        raise IntegrityError(f"{path} does not end with the archive checksum; it was modified or truncated")
    if digest != h.hexdigest().encode():
        raise IntegrityError(
            f"{path} does not match its SHA-256: the archive was modified or corrupted; re-export it"
        )
