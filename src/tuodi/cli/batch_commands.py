"""`tuodi` commands of the batch package (registered on the main app)."""
from tuodi.cli.main import app  # noqa: F401
