"""The knowledge runtime's article classifier: fitted in a child process, and cached beside the index
with a stamp (app/knowledge.py makes it) so that a cache of other data is never used."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from knowledge_base.classifier import ArticleClassifier, train_classifier as fit_classifier
from knowledge_base.service import KnowledgeBase

log = logging.getLogger("parley.kb")


def load_classifier(kb: KnowledgeBase, index_dir: Path, stamp: str, dim: int) -> bool:
    """Use the cached classifier when it was fitted on exactly this index. True when it was."""
    path = index_dir / "classifier.npz"
    if not kb.classifier_wanted() or not path.exists():
        return False
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["stamp"]) != stamp:
                return False
            ids = tuple(str(a) for a in saved["article_ids"])
            weights, bias = saved["weights"], saved["bias"]
    except (OSError, KeyError, ValueError):
        log.warning("ignoring an unreadable classifier cache at %s", path)
        return False
    if set(ids) != set(kb.articles) or weights.shape != (dim, len(ids)):
        return False
    return kb.use_classifier(ArticleClassifier(kb.index.generation, ids, weights, bias))


def save_classifier(kb: KnowledgeBase, index_dir: Path, stamp: str) -> None:
    """Cache the classifier in use, if it is the current index's (call with the index settled)."""
    fitted = kb.current_classifier
    if fitted is None:
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / "classifier.tmp.npz"
    np.savez(tmp, stamp=np.array(stamp), article_ids=np.array(fitted.article_ids),
             weights=fitted.weights, bias=fitted.bias)
    os.replace(tmp, index_dir / "classifier.npz")


class ClassifierTrainer:
    """One background training at a time: a request while one runs queues one more, so a burst of
    publishes ends with a classifier fitted on the last of them."""

    def __init__(self, kb: KnowledgeBase, save: Callable[[], None], index_dir: Path) -> None:
        self.kb = kb
        self._save = save  # caches the fitted classifier beside the index
        self._index_dir = index_dir
        self.task: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        if self.task is not None and not self.task.done():
            self._again = True
            return
        self.task = asyncio.get_running_loop().create_task(self._train(), name="kb-classifier")

    async def _train(self) -> None:
        """Fit in a child process of lower priority, never in a thread of this one: torch's optimiser
        holds the GIL for most of a fit, and a thread of ours training for ~13 s under the fault test's
        load delayed every socket's acknowledgements by 1.5-2 s. The child lives for one burst of
        publishes, so an idle server carries no trainer process in memory."""
        self._again = True
        pool: ProcessPoolExecutor | None = None
        try:
            while self._again:
                self._again = False
                inputs = self.kb.classifier_inputs()
                if inputs is None:
                    return
                started = time.perf_counter()
                fit = partial(fit_classifier, *inputs, c=self.kb.classifier_c)
                try:
                    if pool is None:
                        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                   initializer=trainer_init, initargs=(os.getpid(),))
                    fitted: ArticleClassifier | None = await asyncio.get_running_loop().run_in_executor(pool, fit)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the bot keeps answering by neighbour score
                    log.exception("training the article classifier failed")
                    return
                if self.kb.use_classifier(fitted):
                    log.info("article classifier trained", extra={"articles": len(self.kb.articles),
                                                                  "ms": round((time.perf_counter() - started) * 1000)})
                    try:
                        await asyncio.to_thread(self._save)
                    except OSError:
                        log.warning("could not cache the classifier in %s", self._index_dir)
        finally:
            if pool is not None:
                _stop_pool(pool)


def trainer_init(server_pid: int) -> None:
    """In the training process: take only the CPU that the server's requests leave, and end with the
    server. A server killed with SIGKILL runs no clean-up, and its trainer would otherwise live on."""
    try:
        os.nice(10)
    except OSError:
        pass
    if os.getppid() != server_pid:
        os._exit(0)
    threading.Thread(target=_exit_with, args=(server_pid,), name="exit-with-server", daemon=True).start()


def _exit_with(server_pid: int) -> None:
    while os.getppid() == server_pid:
        time.sleep(0.5)
    os._exit(0)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop the trainer now, mid-fit included (shutdown alone would wait for the fit to finish)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
