"""The `tuodi` command line."""
