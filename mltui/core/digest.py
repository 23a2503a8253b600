"""SHA-256 for the audit chain, without loading OpenSSL at every start.

Opening a catalog checks the tail of its audit chains (``core/audit.py``), so every start
hashes a few rows.  ``hashlib`` loads OpenSSL's ``_hashlib`` to do that: ``import hashlib``
is 12 M instructions under cachegrind against 1 M for ``import _sha256``, and the app's start
to its first rows 6 M fewer without it (``benchmarks/instructions.py``).  CPython's own
SHA-256 gives the same digests; it is used when the interpreter has it (``_sha256`` up to
3.11, ``_sha2`` from 3.12), else ``hashlib``'s.
"""

from __future__ import annotations

try:
    from _sha256 import sha256  # CPython ≤ 3.11
except ImportError:  # pragma: no cover - depends on the interpreter
    try:
        from _sha2 import sha256  # CPython ≥ 3.12
    except ImportError:
        from hashlib import sha256

__all__ = ["sha256"]
