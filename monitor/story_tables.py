"""Compact tables of the story index (pure): LSH buckets and bulk-built posting lists.

The LSH table holds 16 band keys per article. As a dict of Python ints that was ~1.3 KB
an article (a dict slot and a 36-byte int per key), the largest part of the index at
1M articles. Here the bulk of it is two sorted numpy arrays (16 bytes a key) searched
with ``searchsorted``; articles added since the last merge sit in a small dict, merged
into the arrays once it holds as many keys as a quarter of them (amortised O(log n) an
article). Removed ids are left in the arrays and skipped by the caller, which checks
every hit against its live entries anyway; merges drop them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt

MERGE_MIN = 50_000  # delta keys below which the arrays are never rebuilt


def groups(
    keys: npt.NDArray[np.uint64],
) -> tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]
]:
    """One stable sort of ``keys``: (distinct keys, group starts, group ends, the sort
    order), input order kept within a group."""
    order = np.argsort(keys, kind="stable")
    skeys = keys[order]
    starts = np.flatnonzero(np.r_[True, skeys[1:] != skeys[:-1]])
    ends = np.r_[starts[1:], skeys.size]
    return skeys[starts], starts, ends, order


def postings_and_df(
    keys: npt.NDArray[np.uint64],
    ids: npt.NDArray[np.int64],
    counted: npt.NDArray[np.bool_],
    keep_last: int,
) -> tuple[dict[int, list[int]], dict[int, int]]:
    """From one sort: {feature: ids in input order, cut to the last ``keep_last``} and
    {feature: number of its rows with ``counted`` set} (features with none left out)."""
    if keys.size == 0:
        return {}, {}
    uniq, starts, ends, order = groups(keys)
    df = np.add.reduceat(counted[order].astype(np.int64), starts)
    some = df > 0
    dfs = dict(zip(uniq[some].tolist(), df[some].tolist(), strict=True))
    starts = np.maximum(starts, ends - keep_last)
    ids_list = ids[order].tolist()
    postings = {
        key: ids_list[a:b]
        for key, a, b in zip(uniq.tolist(), starts.tolist(), ends.tolist(), strict=True)
    }
    return postings, dfs


class LshTable:
    """Band key -> article ids: sorted arrays for the bulk, a dict for recent additions."""

    def __init__(self) -> None:
        self._keys: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)
        self._ids: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._delta: dict[int, int | list[int]] = {}
        self._delta_keys = 0

    def __len__(self) -> int:
        """Keys held (removed ones included until the next merge)."""
        return int(self._keys.size) + self._delta_keys

    def load(self, keys: npt.NDArray[np.uint64], ids: npt.NDArray[np.int64]) -> None:
        """Replace the contents with ``keys[i] -> ids[i]`` (one stable sort)."""
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._ids = ids[order]
        self._delta = {}
        self._delta_keys = 0

    def add(self, keys: Iterable[int], article_id: int, alive: Callable[[], Iterable[int]]) -> None:
        delta = self._delta
        for key in keys:
            held = delta.get(key)
            if held is None:
                delta[key] = article_id
            elif isinstance(held, list):
                held.append(article_id)
            else:
                delta[key] = [held, article_id]
            self._delta_keys += 1
        if self._delta_keys > max(MERGE_MIN, self._keys.size // 4):
            self.merge(alive())

    def remove(self, keys: Iterable[int], article_id: int) -> None:
        """Forget an article's keys in the delta; in the arrays it stays until a merge."""
        delta = self._delta
        for key in keys:
            held = delta.get(key)
            if isinstance(held, list):
                if article_id in held:
                    held.remove(article_id)
                    self._delta_keys -= 1
                if len(held) == 1:
                    delta[key] = held[0]
            elif held == article_id:
                del delta[key]
                self._delta_keys -= 1

    def hits(self, keys: list[int]) -> set[int]:
        """Ids sharing at least one key (possibly removed ones: the caller checks)."""
        found: set[int] = set()
        if not keys:
            return found
        if self._keys.size:
            q = np.asarray(keys, dtype=np.uint64)
            lo = np.searchsorted(self._keys, q, side="left")
            hi = np.searchsorted(self._keys, q, side="right")
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                if b > a:
                    found.update(self._ids[a:b].tolist())
        delta = self._delta
        for key in keys:
            held = delta.get(key)
            if held is None:
                continue
            if isinstance(held, list):
                found.update(held)
            else:
                found.add(held)
        return found

    def merge(self, alive: Iterable[int]) -> None:
        """Fold the delta into the arrays and drop ids not in ``alive``."""
        dk: list[int] = []
        di: list[int] = []
        for key, held in self._delta.items():
            if isinstance(held, list):
                dk.extend([key] * len(held))
                di.extend(held)
            else:
                dk.append(key)
                di.append(held)
        keys = np.concatenate([self._keys, np.array(dk, dtype=np.uint64)])
        ids = np.concatenate([self._ids, np.array(di, dtype=np.int64)])
        live = np.fromiter(alive, dtype=np.int64)
        keep = np.isin(ids, live)
        self.load(keys[keep], ids[keep])
