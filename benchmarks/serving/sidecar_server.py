"""A ``driftline sidecar`` for the serving benchmark: a SQLite store, the ingest token in a file.

Run as ``python sidecar_server.py FOLDER PORT``; writes ``FOLDER/token`` once it serves.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import uvicorn
from prometheus_client import CollectorRegistry

from collectors.auth import TokenAuthorizer
from collectors.collector import Collector
from collectors.metrics import CollectorMetrics
from collectors.sidecar import IngestService, create_sidecar_app
from collectors.spool import Spool
from storage import FeatureSpec, create_engine, create_session_factory, register_model, sqlite_url
from storage.migrations import upgrade
from storage.repositories.token_cache import TokenVerifier
from storage.repositories.tokens import create_token


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    engine = create_engine(sqlite_url(folder / "store.db"))
    upgrade(engine)
    sessions = create_session_factory(engine)
    with sessions() as session, session.begin():
        register_model(
            session,
            name="clf",
            task="binary_classification",
            version="1",
            classes=("0", "1"),
            features=[FeatureSpec(f"f{i}", "numeric") for i in range(20)],
        )
        token = create_token(session, name="bench", scopes=["ingest"]).token
    registry = CollectorRegistry()
    collector = Collector(engine, Spool(folder / "spool"), metrics=CollectorMetrics(registry))
    collector.start()
    authorize = TokenAuthorizer(TokenVerifier(sessions))
    app = create_sidecar_app(
        IngestService(collector, engine),
        authorize=authorize,
        registry=registry,
        ready=lambda: True,
        max_body_bytes=2**26,
    )
    (folder / "token").write_text(token)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
