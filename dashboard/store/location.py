"""Where the logs live: a local folder or an object-store URL.

One data location holds every Delta table of the store, the price file and the files
moved to quarantine. A local folder is a path (`data/logs`); object storage is a URL
(`s3://bucket/prefix`, `gs://…`, `az://…`, or anything else delta-rs supports). Credentials
and endpoints come the standard way, from the environment (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, …): delta-rs
reads them for the tables, fsspec for DuckDB's reads and the small files beside them.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa

# fsspec implementations of the object stores, and the package that brings each
FSSPEC_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs",
                   "abfss": "adlfs"}


class LocationError(ValueError):
    """A data location that cannot be used; the message says why."""


class Location:
    """A local folder or an object-store prefix, and the filesystem to reach what is under it."""

    def __init__(self, where: str | os.PathLike):
        text = os.fspath(where)
        scheme = urlsplit(text).scheme if "://" in text else ""
        if scheme in ("", "file"):
            self.path: Path | None = Path(text.removeprefix("file://")).absolute()
            self.uri = str(self.path)
            self.scheme = "file"
        else:
            self.path = None
            self.uri = text.rstrip("/")
            self.scheme = scheme
        self._fs = None
        self._fs_lock = threading.Lock()

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"Location({self.uri!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Location) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    @property
    def is_local(self) -> bool:
        return self.path is not None

    def join(self, *parts: str) -> str:
        """The URI (or absolute path) of something under the location."""
        return "/".join([self.uri, *parts])

    # -- the filesystem ---------------------------------------------------------------

    @property
    def fs(self):
        """The fsspec filesystem of the location (imported on first use: a local store needs none of it)."""
        with self._fs_lock:
            if self._fs is None:
                import fsspec

                try:
                    self._fs = fsspec.filesystem(self.scheme)
                except ImportError:
                    package = FSSPEC_PACKAGES.get(self.scheme, f"an fsspec filesystem for {self.scheme}://")
                    raise LocationError(f"data location {self.uri}: reading {self.scheme}:// needs the package "
                                        f"{package} (pip install {package})") from None
                except ValueError as exc:
                    raise LocationError(f"data location {self.uri}: {exc}") from None
            return self._fs

    def register(self, con) -> None:
        """Let a DuckDB connection read the location's URIs (DuckDB's own httpfs is not available)."""
        if not self.is_local:
            con.register_filesystem(self.fs)

    def read_bytes(self, *parts: str) -> bytes | None:
        """A small file under the location, or None when there is none."""
        if self.path is not None:
            try:
                return self.path.joinpath(*parts).read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                return None
        try:
            return self.fs.cat_file(self.join(*parts))
        except FileNotFoundError:
            return None

    def write_bytes(self, data: bytes, *parts: str) -> None:
        """Write a small file whole: renamed into place on disk, one PUT on object storage."""
        if self.path is None:
            self.fs.pipe_file(self.join(*parts), data)
            return
        target = self.path.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def modified(self, *parts: str) -> object | None:
        """Something that changes when the file changes (mtime, or the object's ETag); None if absent."""
        if self.path is not None:
            try:
                stat = self.path.joinpath(*parts).stat()
            except FileNotFoundError:
                return None
            return (stat.st_mtime_ns, stat.st_size)
        try:
            info = self.fs.info(self.join(*parts))
        except FileNotFoundError:
            return None
        return info.get("ETag") or info.get("LastModified") or info.get("mtime") or info.get("size")

    def copy(self, source: str, *parts: str) -> str:
        """Copy a file of the location (a URI from `join`) to another place under it; returns the new URI."""
        target = self.join(*parts)
        if self.path is not None:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with open(source, "rb") as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        else:
            self.fs.copy(source, target)
        return target

    def read_parquet(self, uri: str, columns: list[str]) -> pa.Table:
        """Columns of one (small) Parquet file of the location, without a DuckDB connection."""
        import pyarrow.parquet as pq  # imported here: most commands never need it (10 ms at start)

        if self.path is not None:
            return pq.read_table(uri, columns=columns)
        with self.fs.open(uri, "rb") as f:
            return pq.read_table(f, columns=columns)

    def data_files(self, uri: str) -> dict[str, float]:
        """The Parquet files under a table's folder (not its log), with their modification times (epoch s)."""
        if self.path is not None:
            found = {}
            for folder, dirs, names in os.walk(uri):
                dirs[:] = [d for d in dirs if d != "_delta_log"]
                for name in names:
                    if name.endswith(".parquet"):
                        path = os.path.join(folder, name)
                        try:
                            found[path] = os.path.getmtime(path)
                        except FileNotFoundError:
                            pass  # removed meanwhile
            return found
        if not self.fs.exists(uri):
            return {}
        found = {}
        listed = self.fs.find(uri, detail=True)
        # the listing must not stay in fsspec's cache: DuckDB reads through this filesystem, and a
        # file written after it would be "not found" there
        self.fs.invalidate_cache()  # all of it: s3fs drops a path and its parents, not the day folders below
        for path, info in listed.items():
            modified = info.get("LastModified") or info.get("mtime")
            if path.endswith(".parquet") and "/_delta_log/" not in path and hasattr(modified, "timestamp"):
                found[f"{self.scheme}://{path}"] = modified.timestamp()  # (no time known: never swept)
        return found

    def size(self, uri: str) -> int:
        return os.path.getsize(uri) if self.path is not None else int(self.fs.size(uri))

    def exists(self, uri: str) -> bool:
        return os.path.exists(uri) if self.path is not None else bool(self.fs.exists(uri))

    def remove(self, uri: str) -> None:
        if self.path is not None:
            Path(uri).unlink(missing_ok=True)
        else:
            try:
                self.fs.rm_file(uri)
            except FileNotFoundError:
                pass

    def make_dirs(self, *parts: str) -> None:
        if self.path is not None:
            self.path.joinpath(*parts).mkdir(parents=True, exist_ok=True)
