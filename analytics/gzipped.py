"""A gzip body whose large start is compressed once and kept, and whose small end is added per request.

The profit-vs-volume answer is '{"points":' + the run's stored points (about a megabyte at 100,000
customers, the same for every reader) + a small end that depends on the request (the language's
frame, the run, the customer address). Compressing the whole answer per request costs 50-220 ms of
CPU here; compressing only the end costs well under a millisecond. A gzip member is a header, deflate
blocks, then the CRC-32 and length of what they hold: the start's blocks end on a byte boundary
(Z_SYNC_FLUSH, not the last block), the end's blocks (a compressor of their own: they refer to
nothing before them) follow them and finish the stream, and the CRC-32 runs on from the start's.
"""

import struct
import zlib

# gzip magic, deflate, no flags, no modification time, no extra flags, unknown system (RFC 1952)
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
TRAILER = struct.Struct("<II")  # CRC-32 and length modulo 2**32, as gzip's trailer has them
LEVEL = 9  # once per stored start: the best compression is worth its few hundred ms


def opened(start: bytes) -> bytes:
    """`start` compressed as the beginning of a gzip stream, not yet ended: the gzip header and its
    deflate blocks, followed by its CRC-32 and length (for `closed`, which moves them to the end)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    blocks = compressor.compress(start) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return HEADER + blocks + TRAILER.pack(zlib.crc32(start), len(start) & 0xFFFFFFFF)


def closed(stream: bytes, end: bytes) -> bytes:
    """A whole gzip body of the start `stream` holds (from `opened`) followed by `end`."""
    crc, size = TRAILER.unpack(stream[-TRAILER.size :])
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    blocks = compressor.compress(end) + compressor.flush(zlib.Z_FINISH)
    return stream[: -TRAILER.size] + blocks + TRAILER.pack(zlib.crc32(end, crc), (size + len(end)) & 0xFFFFFFFF)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip: named (or "*") without q=0 (RFC 9110 12.5.3)."""
    found = {}
    for item in accept_encoding.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _sep, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name:
            found[name.lower()] = quality
    quality = found.get("gzip", found.get("x-gzip", found.get("*", 0.0)))
    return quality > 0
