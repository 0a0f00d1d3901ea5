"""The `tuodi` command line."""
import os

from tuodi.batch.memory import tune_allocator

tune_allocator()  # before numpy is imported and any thread allocates: see tuodi.batch.memory
# Tuodi does no linear algebra: OpenBLAS's threads would only spin on the two cores after any
# numpy call that reaches BLAS (1% of a 10M-claim settlement's CPU in `perf`)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
