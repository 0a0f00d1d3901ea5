"""`tuodi` commands of the service package (registered on the main app)."""
from tuodi.cli.main import app  # noqa: F401
