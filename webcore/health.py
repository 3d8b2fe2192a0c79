"""GET /healthz: is the app up and is its database reachable."""
from flask import Blueprint, jsonify

import models

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    try:
        models.db.execute_sql("SELECT 1").fetchone()
    except Exception:  # any driver error means "not reachable"; details stay in the log
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok",
                   engine="postgresql" if models.is_postgres() else "sqlite")
