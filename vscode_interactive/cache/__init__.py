"""A reusable download cache: fetch once, verify sha256, extract atomically and safely.

::

    from vscode_interactive.cache import Cache, HashMismatchError, NotCachedError

    cache = Cache()  # root: argument > $VSCODE_INTERACTIVE_CACHE > user cache dir
    path = cache.fetch(url, sha256=None)  # -> Path of the verified file
    tree = cache.fetch_archive(url, sha256=None)  # -> Path of the extracted directory
    cache.entries(); cache.verify(); cache.prune(older_than=30 * 86400)

Any URL fsspec can open works (http(s), file://, plain paths, s3:// or gs:// when s3fs or
gcsfs is installed); ``storage_options`` are passed to it. A URL fetched without a pin
is checked on later downloads against the sha256 seen the first time (trust on first
use). ``VSCODE_INTERACTIVE_OFFLINE=1`` serves hits only and raises
:class:`NotCachedError` on a miss.

The seams a caller may implement, to pass as ``Cache(fetcher=..., clock=..., env=...)``:
:class:`Fetcher` (opens a URL as a :class:`ByteStream`; the real one is fsspec),
:class:`Clock` (time and sleeping, for the retry back-off) and :class:`Environment`
(read-only environment variables). They are ``typing.Protocol`` classes: any object with
those methods fits, no subclassing needed.
"""

from __future__ import annotations

from .._errors import CacheError, DownloadError, ExtractionError, HashMismatchError, NotCachedError
from .._ports import ByteStream, Clock, Environment, Fetcher
from ._cache import Cache
from ._maintenance import CacheEntry, CacheProblem
from ._progress import ProgressCallback

__all__ = [
    "ByteStream",
    "Cache",
    "CacheEntry",
    "CacheError",
    "CacheProblem",
    "Clock",
    "DownloadError",
    "Environment",
    "ExtractionError",
    "Fetcher",
    "HashMismatchError",
    "NotCachedError",
    "ProgressCallback",
]
