"""Child module for `bench.bench_faces`' memory figures: the models are loaded on import, before
`bench._peak` resets the high-water mark, as they are in a worker that has run before."""

from bench.bench_faces import memory_naive, memory_studio
from studio import faces

faces.load_models()

__all__ = ["memory_naive", "memory_studio"]
