"""Serving the web app with gunicorn from ``homeschool serve`` (one process, several threads).

Production beyond one machine runs ``gunicorn 'service.web:create_app()'`` with as many workers
as wanted, plus ``homeschool worker`` processes; this is the embedded default's one command.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class WebServer(BaseApplication):  # type: ignore[misc]
    """gunicorn around an already built Flask app, optionally with a background job per worker."""

    def __init__(self, app: Flask, bind: str, threads: int = 8,
                 background: Callable[[threading.Event], None] | None = None,
                 after_fork: Callable[[], None] | None = None) -> None:
        self.application = app
        self.after_fork = after_fork
        self.options = {
            "bind": bind, "workers": 1, "worker_class": "gthread", "threads": threads, "accesslog": "-",
            "timeout": 60, "graceful_timeout": 10,
        }
        self.background = background
        self.stop = threading.Event()
        super().__init__()

    def load_config(self) -> None:
        """Apply the options and the hooks that start and stop the background job."""
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.after_fork is not None:
            after_fork = self.after_fork
            self.cfg.set("post_fork", lambda server, worker: after_fork())
        if self.background is not None:
            self.cfg.set("post_worker_init", self._start_background)
            self.cfg.set("worker_exit", self._stop_background)

    def load(self) -> Flask:
        """The app to serve."""
        return self.application

    def _start_background(self, worker: Any) -> None:
        assert self.background is not None
        threading.Thread(target=self.background, args=(self.stop,), daemon=True, name="homeschool-worker").start()

    def _stop_background(self, server: Any, worker: Any) -> None:
        self.stop.set()
