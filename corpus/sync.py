"""Fetches the manifest's documents into a local corpus folder, checking each checksum."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.manifest import MANIFEST_NAME, MANIFEST_PATH, load_manifest


@dataclass
class SyncReport:
    """What a sync did: files fetched, already present, and failed (with why)."""

    fetched: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".sync-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "procure-ai corpus sync"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URLs come from the manifest)
        return response.read()


def sync(
    dest: Path,
    manifest: Path = MANIFEST_PATH,
    mirror: Path | None = None,
    timeout: float = 30.0,
) -> SyncReport:
    """Download (or copy from `mirror`) every document of `manifest` into `dest`.

    A file already in `dest` with the right checksum is left alone; a download
    whose checksum differs from the manifest's is refused, and the old file
    kept. The manifest is copied beside the files so `ingest` knows their
    titles, URLs and licences.
    """
    dest = Path(dest)
    report = SyncReport()
    for source in load_manifest(manifest).values():
        target = dest / source.path
        if target.is_file() and source.sha256 and _sha256(target.read_bytes()) == source.sha256:
            report.unchanged.append(source.path)
            continue
        try:
            if mirror is not None:
                data = (Path(mirror) / source.path).read_bytes()
            else:
                if not source.download:
                    raise ValueError("no download URL in the manifest")
                data = _fetch(source.download, timeout)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            report.failed[source.path] = str(getattr(exc, "reason", exc))
            continue
        if source.sha256 and _sha256(data) != source.sha256:
            report.failed[source.path] = "checksum differs from the manifest (file changed upstream?)"
            continue
        _write_atomic(target, data)
        report.fetched.append(source.path)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(manifest, dest / MANIFEST_NAME)
    return report
