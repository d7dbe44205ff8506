"""Probes and the offline API documentation."""

from __future__ import annotations


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_unreachable(app, client):
    saved = app.extensions.pop("casework.redis", None)
    saved_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.config["REDIS_URL"] = saved_url
        app.extensions.pop("casework.redis", None)
        if saved is not None:
            app.extensions["casework.redis"] = saved
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == "unavailable"


def test_openapi_document_lists_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/login" in spec["paths"]


def test_docs_page_uses_local_assets_only(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()
