"""Exact and near-duplicate removal, shared by the seeds stage (Jaccard 0.5) and selection (0.7).

Near-dedup follows the paper's MinHash setup (text-dedup's defaults in the official pipeline): word
5-grams of the lower-cased text, 250 permutations, LSH bands chosen by datasketch for the threshold,
and clusters as connected components of the candidate pairs, keeping the first record of each.
Two choices of ours: tokens are runs of word characters (the official splitter also emits the
empty strings between adjacent punctuation, so `a, b` gave three tokens), and a candidate pair
from the LSH bands becomes an edge only when its estimated Jaccard reaches the threshold
(`verify=True`), so band collisions between dissimilar texts do not merge clusters.
A text shorter than one n-gram is a single shingle of all its tokens (the official script dropped
such texts from the dataset instead).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence

_WORD = re.compile(r"\w+")


def exact_dedup(records: list[dict], key: Callable[[dict], Hashable]) -> tuple[list[dict], list[dict]]:
    """(kept, removed): keeps the first record of each key, in input order."""
    seen: set[Hashable] = set()
    kept, removed = [], []
    for record in records:
        k = key(record)
        if k in seen:
            removed.append(record)
        else:
            seen.add(k)
            kept.append(record)
    return kept, removed


def shingles(text: str, ngram: int = 5) -> set[bytes]:
    """The word n-grams MinHash sees: lower-cased runs of word characters, joined by spaces."""
    tokens = _WORD.findall(text.lower())
    if len(tokens) <= ngram:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i:i + ngram]).encode() for i in range(len(tokens) - ngram + 1)}


def _components(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Union-find over record indices; each index maps to the smallest index of its component."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root stays the earliest record
    return [find(i) for i in range(n)]


def minhash_dedup(records: list[dict], text: Callable[[dict], str], threshold: float, *,
                  num_perm: int = 250, ngram: int = 5, seed: int = 42, verify: bool = True,
                  clusters: dict[int, int] | None = None) -> tuple[list[dict], list[dict]]:
    """(kept, removed): near-duplicates by MinHash LSH (datasketch) over word n-grams of text(record);
    keeps the first of each cluster in input order. Deterministic.

    `clusters`, when given, is filled with {index of a removed record: index of the kept record of
    its cluster}, for reports that show what a record was a duplicate of.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if len(records) < 2:
        return list(records), []
    from datasketch import MinHash, MinHashLSH

    signatures = MinHash.bulk((shingles(text(r), ngram) for r in records), num_perm=num_perm, seed=seed)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for i, sig in enumerate(signatures):
            session.insert(i, sig, check_duplication=False)
    edges = []
    for i, sig in enumerate(signatures):
        for j in lsh.query(sig):
            if j < i and (not verify or sig.jaccard(signatures[j]) >= threshold):
                edges.append((j, i))
    roots = _components(len(records), edges)
    kept, removed = [], []
    for i, record in enumerate(records):
        if roots[i] == i:
            kept.append(record)
        else:
            removed.append(record)
            if clusters is not None:
                clusters[i] = roots[i]
    return kept, removed
