// Keeps the CUDA library non-empty until the kernels land.
