"""LSH band keys of story signatures (pure): how copies find each other in O(1).

The 64-value MinHash is cut into LSH_BANDS bands of LSH_ROWS rows; each band hashes to
one key, salted by its band so that equal rows in different bands do not collide. Two
signatures sharing a key are candidates for a copy (monitor.story_index keeps the keys
in an LshTable, monitor.story_tables); the copy itself is verified by
monitor.story_verify.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.story_features import MIN_SHINGLES, NUM_PERM, StorySignature

LSH_BANDS = 16
LSH_ROWS = NUM_PERM // LSH_BANDS
_BAND_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
    dtype=np.uint64,
)[:LSH_ROWS]
_BAND_SALT = np.arange(LSH_BANDS, dtype=np.uint64) * np.uint64(0xFF51AFD7ED558CCD)


def band_keys(sig: StorySignature) -> list[int]:
    """LSH keys (one per band, salted by band) or [] when the text is too short to tell."""
    if sig.shingles < MIN_SHINGLES:
        return []
    return band_keys_many([sig])[0]


def band_keys_many(sigs: list[StorySignature]) -> list[list[int]]:
    """band_keys of many signatures in one numpy pass (index rebuilds)."""
    if not sigs:
        return []
    keys = band_key_matrix(b"".join(s.minhash for s in sigs), len(sigs)).tolist()
    return [k if s.shingles >= MIN_SHINGLES else [] for s, k in zip(sigs, keys, strict=True)]


def band_key_matrix(minhashes: bytes, count: int) -> npt.NDArray[np.uint64]:
    """(count, LSH_BANDS) band keys of ``count`` concatenated MinHashes, in one numpy pass."""
    rows = np.frombuffer(minhashes, dtype="<u4").astype(np.uint64)
    rows = rows.reshape(count, LSH_BANDS, LSH_ROWS)
    keys: npt.NDArray[np.uint64] = (rows * _BAND_MIX).sum(axis=2) ^ _BAND_SALT
    return keys
