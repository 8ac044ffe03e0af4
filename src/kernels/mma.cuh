// The tensor-core instruction the kernels share: mma.sync m16n8k16, BF16 operands, FP32
// accumulators (lane l holds rows l / 4 and l / 4 + 8; see the PTX ISA's fragment layouts).
#pragma once
#include <cstdint>

namespace mrgptq::gpu::dev {

// c += A B: A [16 x 16] row-major in a0..a3 (a0: row l/4, columns 2(l%4) + {0, 1}; a1: row + 8;
// a2, a3: columns + 8), B [16 x 8] in b0, b1 (rows 2(l%4) + {0, 1} and + 8 of column l/4), c
// rows l/4 and l/4 + 8 at columns 2(l%4) + {0, 1}. The lower element of a pair is in the low half.
__device__ __forceinline__ void mma_bf16(float (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2,
                                         uint32_t a3, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

}  // namespace mrgptq::gpu::dev
