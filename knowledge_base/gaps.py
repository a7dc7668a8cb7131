"""Group unanswered questions by meaning: greedy clustering of unit vectors on cosine similarity.

Pure: vectors in, clusters out. Questions are visited in order; each joins the most similar
cluster whose centroid is within `threshold`, else starts a new one. Centroids are running means,
re-normalised, so a cluster is "the questions that mean about the same thing".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD = 0.72


@dataclass(frozen=True)
class Cluster:
    members: list[int]  # indices into the input, in input order
    centroid: np.ndarray

    @property
    def size(self) -> int:
        return len(self.members)


def cluster_vectors(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> list[Cluster]:
    """Clusters of `vectors` (rows, unit length), largest first (ties: earliest first)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) == 0:
        return []
    sums: list[np.ndarray] = []
    centroids = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    members: list[list[int]] = []
    for i, v in enumerate(vectors):
        if len(members):
            sims = centroids @ v
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                members[best].append(i)
                sums[best] = sums[best] + v
                centroids[best] = sums[best] / (np.linalg.norm(sums[best]) or 1.0)
                continue
        members.append([i])
        sums.append(v.copy())
        centroids = np.vstack([centroids, v / (np.linalg.norm(v) or 1.0)])
    clusters = [Cluster(m, centroids[k]) for k, m in enumerate(members)]
    return sorted(clusters, key=lambda c: (-c.size, c.members[0]))


def representative(vectors: np.ndarray, cluster: Cluster) -> int:
    """The member closest to the cluster's centroid (its best label)."""
    sims = np.asarray(vectors, dtype=np.float32)[cluster.members] @ cluster.centroid
    return cluster.members[int(np.argmax(sims))]
