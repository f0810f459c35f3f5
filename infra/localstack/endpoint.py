"""An AWS-compatible endpoint on localhost, answering from this process's moto backends.

WHY: the stack lives in one process; an HR integrator trying the event contract needs to reach its
bus from outside (``aws events put-events --endpoint-url …``, boto3 with ``endpoint_url``). moto's
server app (``moto.moto_server``) dispatches each request to the same module-level backends that
``mock_aws`` serves in-process, and through the same (patched) backend and response methods, so an
event put through the endpoint is delivered, tapped, retried and dead-lettered exactly like one put
by a test; executions, queues and tables read through it are the stack's own.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

LOG = logging.getLogger("infra.localstack")


class AwsEndpoint:
    """moto's server app on ``host:port`` (port 0 picks a free one), in a thread of this process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host = host
        self.port = port
        self.url: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-endpoint", daemon=True)
        self._thread.start()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one line per SDK call
        LOG.info("AWS endpoint on %s", self.url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
