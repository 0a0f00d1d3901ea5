"""The `tuodi` command line."""
from tuodi.batch.memory import tune_allocator

tune_allocator()  # before numpy is imported and any thread allocates: see tuodi.batch.memory
