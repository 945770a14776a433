"""The gunicorn worker ``oralhist serve`` uses: gthread, with lingering closes moved off the
worker's main loop.

gunicorn's gthread worker closes a finished connection "gracefully" (RFC 9112 section 9.6:
half-close, then read until the client closes, for up to 2 s) on its main loop. A client
that announced a body, was answered (400 after ``BODY_READ_TIMEOUT_S``, or refused unread)
and then simply stays silent holds that loop for the whole linger, and with it every other
connection of the worker: 16 such clients stalled the loop for ~30 s in a test. Here the
lingering close runs on a small pool of its own threads instead, so the loop (which accepts
connections and hands them to the request threads) never waits for a silent client.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

#: Threads that linger on closing connections (each linger lasts at most ~2 s).
CLOSER_THREADS = 4


class Worker(ThreadWorker):
    """gunicorn's gthread worker with graceful closes done off the main loop."""

    def init_process(self) -> None:
        self._closer = ThreadPoolExecutor(
            max_workers=CLOSER_THREADS, thread_name_prefix="oralhist-close"
        )
        super().init_process()

    def finish_request(self, conn: Any, fs: Any) -> None:
        close = conn.close

        def close_off_the_loop(graceful: bool = False) -> None:
            if graceful:
                self._closer.submit(close, graceful=True)
            else:
                close()

        conn.close = close_off_the_loop
        super().finish_request(conn, fs)
