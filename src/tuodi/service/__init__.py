"""The one-stop settlement HTTP API (FastAPI): `create_app(db_url, policy, stats)`."""
