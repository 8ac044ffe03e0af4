// Programmatic dependent launches (gpu::set_programmatic_launch; include/mrgptq/kernels.hpp says
// who takes part): the launch on the host, and the two instructions a kernel launched so executes.
// A kernel launched as a programmatic dependent of the kernel before it in the stream may have its
// CTAs started while that kernel still runs; it must execute grid_dependency_wait before it reads
// what that kernel writes or writes what that kernel reads. A kernel lets the next one's CTAs
// start early by executing grid_dependents_launch; where the next one was launched plainly, both
// instructions do nothing.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "kernels/fp4_device.cuh"  // MRGPTQ_CUDA_CHECK

namespace mrgptq::gpu {

// Host: launch a kernel whose last parameter is `bool pdl`, passing `pdl`: as a programmatic
// dependent of the kernel before it in the stream where pdl is true (the kernel must then wait in
// grid_dependency_wait, below, before its global reads and writes), else as a plain launch,
// exactly as before programmatic launches existed (docs/PERFORMANCE.md, twentieth session).
template <class... Params, class... Args>
void launch_dependent(bool pdl, void (*kernel)(Params...), unsigned grid, unsigned block,
                      size_t smem, cudaStream_t st, Args&&... args) {
  if (!pdl) {
    kernel<<<grid, block, smem, st>>>(std::forward<Args>(args)..., false);
    MRGPTQ_CUDA_LAUNCH_CHECK();
    return;
  }
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(grid), cfg.blockDim = dim3(block), cfg.dynamicSmemBytes = smem;
  cfg.stream = st, cfg.attrs = attr, cfg.numAttrs = 1;
  MRGPTQ_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)..., true));
}

// A CTA launched while the kernel before it in the stream still runs waits here until that
// kernel has finished and its writes are visible, before it reads X or writes Y (that kernel may
// still read the buffer). The streamed W4A16 kernels execute it only in programmatic launches,
// after their first weight copies (w4a16_tc.cu); kernel 1 first thing (act_quant.cu).
__device__ __forceinline__ void grid_dependency_wait() {
  asm volatile("griddepcontrol.wait;" ::: "memory");
}
// Let the next kernel in the stream, if launched as a programmatic dependent, start its CTAs once
// every CTA of this grid has passed here (they take SM slots this grid leaves free, or frees).
// The streamed kernels execute it right after their first weight copies. The twentieth session's
// wrong sums with this placement came from a race in the ring's slot release, since fixed
// (release_slot_after_reads; docs/PERFORMANCE.md, twenty-third and twenty-fourth sessions).
__device__ __forceinline__ void grid_dependents_launch() {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
}

}  // namespace mrgptq::gpu
