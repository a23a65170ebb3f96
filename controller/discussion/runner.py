"""The synthesis worker: one background thread of the controller that carries queued runs to the end.

It takes the oldest queued run, builds the job from the item's inputs (or, for a run that was
interrupted, restores it from its checkpoint file), and runs the engine of :mod:`controller.synthesis`
with three callbacks: progress (written to the run's row at most every ``progress_s`` and published
live), checkpoint (the whole job state written to ``<checkpoints>/<run>.json`` atomically — write,
fsync, rename — at most every ``checkpoint_s`` and at every step change) and cancel (the row's
``cancel_requested``, read with the progress). A run cancelled from the page ends ``cancelled``; a run
interrupted because the controller stops (or is killed) stays resumable: at the next start
:meth:`Discussions.recover` queues it again and it goes on from its checkpoint, giving the same result
as an uninterrupted run (the engine's guarantee, tested).

The engine (the Vietnamese segmenter and the embedding model) is loaded at the first run, not at start,
so a controller that never synthesises pays nothing. Without the ``synthesis`` extra a run fails at
once with the missing package named. Embedding uses ``threads`` OpenMP threads that sleep at barriers,
so the check-in ingest and the page keep their share of the cores.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from controller.discussion.service import Discussions
from controller.discussion.tables import RunStatus

log = logging.getLogger(__name__)


class SynthesisRunner:
    """The worker thread (``start``/``stop``); ``engine_factory`` builds the engine (tests hand one in)."""

    def __init__(
        self,
        discussions: Discussions,
        *,
        engine_factory=None,
        threads: int | None = None,
        progress_s: float = 1.0,
        checkpoint_s: float = 10.0,
        poll_s: float = 5.0,
    ) -> None:
        self.discussions = discussions
        self._factory = engine_factory
        self._engine = None
        self.threads = threads or max(1, (os.cpu_count() or 2) - 1)
        self.progress_s, self.checkpoint_s, self.poll_s = progress_s, checkpoint_s, poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._cancel: threading.Event | None = None
        self._thread: threading.Thread | None = None
        discussions.wake = self._wake.set

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> SynthesisRunner:
        self.discussions.checkpoints.mkdir(parents=True, exist_ok=True)
        again = self.discussions.recover()
        if again:
            log.info("synthesis: %d interrupted run(s) will go on from their checkpoints", again)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="synthesis", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop at the next unit of work; the run in hand stays resumable."""
        self._stop.set()
        self._wake.set()
        if self._cancel is not None:
            self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.discussions.next_queued()
            except Exception:
                log.exception("synthesis: could not read the queue")
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self._execute(*job)

    # -- one run ------------------------------------------------------------------------------------

    def _checkpoint_path(self, run_ref: str) -> Path:
        return self.discussions.checkpoints / f"{run_ref}.json"

    def engine(self):
        if self._engine is None:
            if self._factory is not None:
                self._engine = self._factory()
            else:
                from controller.synthesis.embed import E5Embedder
                from controller.synthesis.engine import Engine
                from controller.synthesis.segment import Segmenter

                self._engine = Engine(Segmenter(), E5Embedder(self.threads))
        return self._engine

    def _execute(self, run_ref: str, item_id: int, item_label: str) -> None:
        d = self.discussions
        try:
            from controller.synthesis.engine import Cancelled
            from controller.synthesis.job import JobState, Step
            from controller.synthesis.template import render_draft
        except ImportError as exc:
            d.finish(
                run_ref,
                status=RunStatus.FAILED,
                error=f"the synthesis extra is not installed (missing {exc.name}): "
                "pip install '.[synthesis]'",
            )
            return
        path = self._checkpoint_path(run_ref)
        resumed = False
        try:
            engine = self.engine()
            if path.exists():
                state = JobState.from_json(path.read_text("utf-8"))
                resumed = True
                log.info("synthesis %s: going on from step %s", run_ref, state.step.value)
            else:
                state = engine.start(item_label, d.contributions(item_id))
        except Exception as exc:
            log.exception("synthesis %s could not start", run_ref)
            d.finish(run_ref, status=RunStatus.FAILED, error=f"could not start: {exc}")
            return
        cancel = threading.Event()
        self._cancel = cancel
        if self._stop.is_set():
            cancel.set()
        last = {"progress": 0.0, "checkpoint": time.monotonic(), "step": state.step}
        first = [resumed]

        def progress(p) -> None:
            now = time.monotonic()
            if now - last["progress"] >= self.progress_s or p.done == p.total:
                last["progress"] = now
                if d.progress(run_ref, p.step.value, p.done, p.total, resumed=first[0]):
                    cancel.set()
                first[0] = False

        def checkpoint(st) -> None:
            now = time.monotonic()
            if st.step is not last["step"] or now - last["checkpoint"] >= self.checkpoint_s:
                last["checkpoint"], last["step"] = now, st.step
                self._write(path, st.to_json())

        try:
            synthesis = engine.run(state, cancel=cancel, progress=progress, checkpoint=checkpoint)
        except Cancelled:
            if self._stop.is_set() and not self._cancel_asked(run_ref):
                self._write(path, state.to_json())
                d.requeue(run_ref)
                log.info("synthesis %s: interrupted by the stop; it goes on at the next start", run_ref)
            else:
                d.finish(run_ref, status=RunStatus.CANCELLED)
                path.unlink(missing_ok=True)
            return
        except Exception as exc:
            log.exception("synthesis %s failed", run_ref)
            d.finish(run_ref, status=RunStatus.FAILED, error=str(exc))
            return
        finally:
            self._cancel = None
        from controller.synthesis.records import to_dict

        try:
            draft = render_draft(synthesis, d.language)
            d.finish(
                run_ref,
                status=RunStatus.DONE,
                result=to_dict(synthesis),
                draft=draft,
                threshold=synthesis.threshold,
            )
        except Exception as exc:
            log.exception("synthesis %s: could not store its result", run_ref)
            d.finish(run_ref, status=RunStatus.FAILED, error=f"could not store the result: {exc}")
            return
        assert state.step is Step.DONE
        path.unlink(missing_ok=True)

    def _cancel_asked(self, run_ref: str) -> bool:
        try:
            return self.discussions.run(run_ref).cancel_requested
        except Exception:
            return False

    @staticmethod
    def _write(path: Path, text: str) -> None:
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
