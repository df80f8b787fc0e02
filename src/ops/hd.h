/* hd.h — IG_HD marks the small inline functions that the CPU kernels (C) and the CUDA kernels
 * (nvcc) both compile, so that both backends compute the same thing. */
#ifndef IG_HD_H
#define IG_HD_H

#ifdef __CUDACC__
#define IG_HD __host__ __device__
#else
#define IG_HD
#endif

#endif /* IG_HD_H */
