"""Reading members of an untrusted zip archive (a bundle) into memory without letting it claim too much.

A small archive can declare members of gigabytes that compress to almost nothing (a zip bomb). Whoever
reads a bundle (`nnstudio import`, and training's --init-weights) goes through `read_member`, which
refuses, before decompressing anything, a member over its limit or over half the memory the system has
available, and a large member that expands more than MAX_RATIO times; `check_total` bounds all the
members read together. Members are decompressed in chunks against a running cap, so the declared size
is never trusted. Every refusal is a MemberError whose message names the member; callers put the
archive's path in front.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable

MAX_TOTAL_BYTES = 4 * 2**30  # every member read from one archive, together
MAX_RATIO = 200  # uncompressed / compressed; real weights deflate by less than 2:1, zeros by ~1000:1
RATIO_FROM_BYTES = 16 * 2**20  # smaller members may compress as well as they like
CHUNK_BYTES = 2**20


class MemberError(ValueError):
    """A member that is not read; the message starts with the member's name."""


def available_memory() -> int | None:
    """Bytes the system can still hand out (Linux MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def total_limit() -> int:
    """What the members read may add up to: MAX_TOTAL_BYTES, or half the available memory if less
    (weights are held twice while they become tensors)."""
    free = available_memory()
    return MAX_TOTAL_BYTES if free is None else min(MAX_TOTAL_BYTES, free // 2)


def size_text(size: int) -> str:
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    if size >= 2**20:
        return f"{size / 2**20:.1f} MiB"
    return f"{size / 2**10:.1f} KiB" if size >= 2**10 else f"{size:,} bytes"


def check_total(archive: zipfile.ZipFile, names: Iterable[str]) -> None:
    """Refuse, before reading anything, members that would together take too much memory."""
    wanted = set(names)
    infos = [info for info in archive.infolist() if info.filename in wanted]
    total, limit = sum(info.file_size for info in infos), total_limit()
    if total > limit:
        raise MemberError(
            f"{', '.join(i.filename for i in infos)} expand to {size_text(total)}, over the "
            f"{size_text(limit)} a bundle may take in memory"
        )


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, if it is at most `limit` (and the memory bound) and not a zip bomb."""
    limit = min(limit, total_limit())
    if info.file_size > limit:
        raise MemberError(f"{info.filename} is {size_text(info.file_size)}, over the {size_text(limit)} limit")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
        raise MemberError(
            f"{info.filename} expands {ratio:.0f}:1 ({size_text(info.compress_size)} to "
            f"{size_text(info.file_size)}), more than the {MAX_RATIO}:1 a real bundle does; it "
            "looks like a zip bomb and is not read"
        )
    chunks, size = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > min(limit, info.file_size):
                    raise MemberError(
                        f"{info.filename} holds more than the {size_text(info.file_size)} its "
                        "header declares; the archive is forged"
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # a bad CRC, a truncated stream, an unknown compression method or a password
        raise MemberError(f"{info.filename} cannot be decompressed ({exc})") from None
    return b"".join(chunks)
