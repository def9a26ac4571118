// Convlab's WebAssembly SIMD training kernels (NHWC, float32).
//
// Built by build.sh into kernels.wasm, which runs inside tfjs-backend-wasm's own linear memory
// (the module imports it): every pointer argument is an offset into tfjs's heap, so tensors are
// read and written in place, with no copies. Because that memory belongs to tfjs, this module
// must own no memory itself: no data segments, no globals, no stack (build.sh checks all three).
// Hence no libc, no lookup tables, no local arrays: scalars and v128 values live in wasm locals.
//
// Threads: each function works on a slice of the batch ([n0, n1)) or of the rows, so several
// workers can share one call (see lib/backend/simd.ts).

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;

static inline v128_t madd(v128_t acc, v128_t a, v128_t b) {
  return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
}

// Copy image `x` [h][w][c] into `xp` [hp][wp][c] at row `top`, column `left`, zero elsewhere.
// Rows/columns of x beyond hp/wp are dropped (they are never read by the convolution).
static void pad_image(const f32* x, f32* xp, int h, int w, int c, int hp, int wp, int top,
                      int left) {
  __builtin_memset(xp, 0, (unsigned long)hp * wp * c * sizeof(f32));
  for (int y = 0; y < h; y++) {
    int py = y + top;
    if (py < 0 || py >= hp) continue;
    int x0 = left < 0 ? -left : 0;
    int x1 = w;
    if (x1 + left > wp) x1 = wp - left;
    if (x1 <= x0) continue;
    __builtin_memcpy(xp + ((long)py * wp + x0 + left) * c, x + ((long)y * w + x0) * c,
                     (unsigned long)(x1 - x0) * c * sizeof(f32));
  }
}

// Filter gradient of a stride-(sh, sw) convolution for images [n0, n1):
//   dw[ky][kx][ci][co] += Σ_{n,oy,ox} x[n][oy·sh+ky−top][ox·sw+kx−left][ci] · dy[n][oy][ox][co]
// dw must be zeroed by the caller before the first slice. When o is not a multiple of 4, dw has
// o4 = o rounded up to 4 output channels (the extra ones come out zero; the caller drops them)
// and each image's dy is copied with its channels padded to o4 (LeNet-5's first layer: 6 → 8).
// scratch: hp·wp·c floats, plus oh·ow·o4 when o is not a multiple of 4, where
// hp = (oh−1)·sh + kh and wp = (ow−1)·sw + kw.
//
// With the image zero-padded, the kw·c values a filter row sees are contiguous, so dw is
// treated as [kh][q = kx·c + ci][co] and accumulated in 4(q) × 8(co) register blocks.
EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const f32* x, const f32* dy, f32* dw, f32* scratch, int n0, int n1,
                        int h, int w, int c, int oh, int ow, int o_dy, int kh, int kw, int sh,
                        int sw, int top, int left) {
  const int hp = (oh - 1) * sh + kh, wp = (ow - 1) * sw + kw;
  const int q_count = kw * c;
  const long row = (long)wp * c;
  const int o = (o_dy + 3) & ~3;
  f32* dy_padded = scratch + (long)hp * wp * c;
  for (int n = n0; n < n1; n++) {
    pad_image(x + (long)n * h * w * c, scratch, h, w, c, hp, wp, top, left);
    const f32* g = dy + (long)n * oh * ow * o_dy;
    if (o != o_dy) {
      for (long p = 0; p < (long)oh * ow; p++) {
        int k = 0;
        for (; k < o_dy; k++) dy_padded[p * o + k] = g[p * o_dy + k];
        for (; k < o; k++) dy_padded[p * o + k] = 0.0f;
      }
      g = dy_padded;
    }
    for (int ky = 0; ky < kh; ky++) {
      f32* dwk = dw + (long)ky * q_count * o;
      int q = 0;
      for (; q + 4 <= q_count; q += 4) {
        int co = 0;
        for (; co + 8 <= o; co += 8) {
          f32* d = dwk + (long)q * o + co;
          v128_t a00 = wasm_v128_load(d), a01 = wasm_v128_load(d + 4);
          v128_t a10 = wasm_v128_load(d + o), a11 = wasm_v128_load(d + o + 4);
          v128_t a20 = wasm_v128_load(d + 2 * o), a21 = wasm_v128_load(d + 2 * o + 4);
          v128_t a30 = wasm_v128_load(d + 3 * o), a31 = wasm_v128_load(d + 3 * o + 4);
          for (int y = 0; y < oh; y++) {
            const f32* xr = scratch + (long)(y * sh + ky) * row + q;
            const f32* gr = g + (long)y * ow * o + co;
            for (int xx = 0; xx < ow; xx++) {
              const f32* xv = xr + (long)xx * sw * c;
              v128_t g0 = wasm_v128_load(gr + (long)xx * o);
              v128_t g1 = wasm_v128_load(gr + (long)xx * o + 4);
              v128_t s0 = wasm_v128_load32_splat(xv), s1 = wasm_v128_load32_splat(xv + 1);
              v128_t s2 = wasm_v128_load32_splat(xv + 2), s3 = wasm_v128_load32_splat(xv + 3);
              a00 = madd(a00, s0, g0); a01 = madd(a01, s0, g1);
              a10 = madd(a10, s1, g0); a11 = madd(a11, s1, g1);
              a20 = madd(a20, s2, g0); a21 = madd(a21, s2, g1);
              a30 = madd(a30, s3, g0); a31 = madd(a31, s3, g1);
            }
          }
          wasm_v128_store(d, a00); wasm_v128_store(d + 4, a01);
          wasm_v128_store(d + o, a10); wasm_v128_store(d + o + 4, a11);
          wasm_v128_store(d + 2 * o, a20); wasm_v128_store(d + 2 * o + 4, a21);
          wasm_v128_store(d + 3 * o, a30); wasm_v128_store(d + 3 * o + 4, a31);
        }
        for (; co + 4 <= o; co += 4) {
          f32* d = dwk + (long)q * o + co;
          v128_t a0 = wasm_v128_load(d), a1 = wasm_v128_load(d + o);
          v128_t a2 = wasm_v128_load(d + 2 * o), a3 = wasm_v128_load(d + 3 * o);
          for (int y = 0; y < oh; y++) {
            const f32* xr = scratch + (long)(y * sh + ky) * row + q;
            const f32* gr = g + (long)y * ow * o + co;
            for (int xx = 0; xx < ow; xx++) {
              const f32* xv = xr + (long)xx * sw * c;
              v128_t g0 = wasm_v128_load(gr + (long)xx * o);
              a0 = madd(a0, wasm_v128_load32_splat(xv), g0);
              a1 = madd(a1, wasm_v128_load32_splat(xv + 1), g0);
              a2 = madd(a2, wasm_v128_load32_splat(xv + 2), g0);
              a3 = madd(a3, wasm_v128_load32_splat(xv + 3), g0);
            }
          }
          wasm_v128_store(d, a0); wasm_v128_store(d + o, a1);
          wasm_v128_store(d + 2 * o, a2); wasm_v128_store(d + 3 * o, a3);
        }
      }
      for (; q < q_count; q++) {
        for (int co = 0; co < o; co += 4) {
          f32* d = dwk + (long)q * o + co;
          v128_t a0 = wasm_v128_load(d);
          for (int y = 0; y < oh; y++) {
            const f32* xr = scratch + (long)(y * sh + ky) * row + q;
            const f32* gr = g + (long)y * ow * o + co;
            for (int xx = 0; xx < ow; xx++) {
              a0 = madd(a0, wasm_f32x4_splat(xr[(long)xx * sw * c]),
                        wasm_v128_load(gr + (long)xx * o));
            }
          }
          wasm_v128_store(d, a0);
        }
      }
    }
  }
}

// Packs a filter w [kh][kw][c][o] for conv2d_input_grad: wp[ky][qb][co][8] holds
// w[ky][kx][ci][co] for q = kx·c + ci = 8·qb + lane, zero past q = kw·c. Sequential in the
// kernel's inner loop (over co). wp: kh · ceil(kw·c / 8) · o · 8 floats.
EXPORT(pack_filter_input_grad)
void pack_filter_input_grad(const f32* w, f32* wp, int kh, int kw, int c, int o) {
  const int q_count = kw * c, blocks = (q_count + 7) / 8;
  for (int ky = 0; ky < kh; ky++) {
    for (int qb = 0; qb < blocks; qb++) {
      f32* dst = wp + ((long)ky * blocks + qb) * o * 8;
      for (int co = 0; co < o; co++) {
        for (int lane = 0; lane < 8; lane++) {
          int q = qb * 8 + lane;
          dst[co * 8 + lane] = q < q_count ? w[((long)ky * q_count + q) * o + co] : 0.0f;
        }
      }
    }
  }
}

// Adds the first `r` (1..8) values of a0:a1 into out.
static inline void add_first(f32* out, v128_t a0, v128_t a1, int r) {
  if (r >= 8) {
    wasm_v128_store(out, wasm_f32x4_add(wasm_v128_load(out), a0));
    wasm_v128_store(out + 4, wasm_f32x4_add(wasm_v128_load(out + 4), a1));
    return;
  }
  if (r >= 4) {
    wasm_v128_store(out, wasm_f32x4_add(wasm_v128_load(out), a0));
    if (r > 4) out[4] += wasm_f32x4_extract_lane(a1, 0);
    if (r > 5) out[5] += wasm_f32x4_extract_lane(a1, 1);
    if (r > 6) out[6] += wasm_f32x4_extract_lane(a1, 2);
    return;
  }
  out[0] += wasm_f32x4_extract_lane(a0, 0);
  if (r > 1) out[1] += wasm_f32x4_extract_lane(a0, 1);
  if (r > 2) out[2] += wasm_f32x4_extract_lane(a0, 2);
}

// Input gradient of a stride-(sh, sw) convolution for images [n0, n1):
//   dx[n][oy·sh+ky−top][ox·sw+kx−left][ci] += Σ_co dy[n][oy][ox][co] · w[ky][kx][ci][co]
// wp: the filter packed by pack_filter_input_grad. scratch: hp·wp·c floats (the padded
// gradient of one image). A GEMM per output row and filter row: 4 pixels × 8 values of q.
EXPORT(conv2d_input_grad)
void conv2d_input_grad(const f32* dy, const f32* wp, f32* dx, f32* scratch, int n0, int n1,
                       int h, int w, int c, int oh, int ow, int o, int kh, int kw, int sh, int sw,
                       int top, int left) {
  const int hp = (oh - 1) * sh + kh, wpad = (ow - 1) * sw + kw;
  const int q_count = kw * c, blocks = (q_count + 7) / 8;
  const long row = (long)wpad * c;
  const long step = (long)sw * c;  // from one output pixel's patch to the next one's
  for (int n = n0; n < n1; n++) {
    __builtin_memset(scratch, 0, (unsigned long)hp * wpad * c * sizeof(f32));
    const f32* g = dy + (long)n * oh * ow * o;
    for (int y = 0; y < oh; y++) {
      for (int ky = 0; ky < kh; ky++) {
        f32* out_row = scratch + (long)(y * sh + ky) * row;
        const f32* wk = wp + (long)ky * blocks * o * 8;
        int xx = 0;
        for (; xx + 4 <= ow; xx += 4) {
          const f32* gp = g + ((long)y * ow + xx) * o;
          f32* out = out_row + xx * step;
          for (int qb = 0; qb < blocks; qb++) {
            v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00;
            v128_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            const f32* wq = wk + (long)qb * o * 8;
            for (int co = 0; co < o; co++) {
              v128_t w0 = wasm_v128_load(wq + co * 8), w1 = wasm_v128_load(wq + co * 8 + 4);
              v128_t s0 = wasm_v128_load32_splat(gp + co);
              v128_t s1 = wasm_v128_load32_splat(gp + o + co);
              v128_t s2 = wasm_v128_load32_splat(gp + 2 * o + co);
              v128_t s3 = wasm_v128_load32_splat(gp + 3 * o + co);
              a00 = madd(a00, s0, w0); a01 = madd(a01, s0, w1);
              a10 = madd(a10, s1, w0); a11 = madd(a11, s1, w1);
              a20 = madd(a20, s2, w0); a21 = madd(a21, s2, w1);
              a30 = madd(a30, s3, w0); a31 = madd(a31, s3, w1);
            }
            int r = q_count - qb * 8;
            f32* at = out + qb * 8;
            add_first(at, a00, a01, r);
            add_first(at + step, a10, a11, r);
            add_first(at + 2 * step, a20, a21, r);
            add_first(at + 3 * step, a30, a31, r);
          }
        }
        for (; xx < ow; xx++) {
          const f32* gp = g + ((long)y * ow + xx) * o;
          f32* out = out_row + xx * step;
          for (int qb = 0; qb < blocks; qb++) {
            v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
            const f32* wq = wk + (long)qb * o * 8;
            for (int co = 0; co < o; co++) {
              v128_t s0 = wasm_v128_load32_splat(gp + co);
              a0 = madd(a0, s0, wasm_v128_load(wq + co * 8));
              a1 = madd(a1, s0, wasm_v128_load(wq + co * 8 + 4));
            }
            add_first(out + qb * 8, a0, a1, q_count - qb * 8);
          }
        }
      }
    }
    // Crop the padded gradient back to the image.
    f32* d = dx + (long)n * h * w * c;
    for (int iy = 0; iy < h; iy++) {
      int py = iy + top;
      if (py < 0 || py >= hp) {
        __builtin_memset(d + (long)iy * w * c, 0, (unsigned long)w * c * sizeof(f32));
        continue;
      }
      // Columns ix in [x0, x1) lie inside the padded gradient: one copy; zeros around it.
      int x0 = left < 0 ? -left : 0, x1 = wpad - left < w ? wpad - left : w;
      if (x1 < x0) x1 = x0;
      f32* dst = d + (long)iy * w * c;
      if (x0 > 0) __builtin_memset(dst, 0, (unsigned long)x0 * c * sizeof(f32));
      if (x1 > x0) {
        __builtin_memcpy(dst + (long)x0 * c, scratch + (long)py * row + (long)(x0 + left) * c,
                         (unsigned long)(x1 - x0) * c * sizeof(f32));
      }
      if (x1 < w) {
        __builtin_memset(dst + (long)x1 * c, 0, (unsigned long)(w - x1) * c * sizeof(f32));
      }
    }
  }
}

// out[j] = Σ_i x[i][j] for rows [r0, r1) (the bias gradient: a sum over all but the last axis).
// out must be zeroed by the caller before the first slice.
EXPORT(column_sums)
void column_sums(const f32* x, f32* out, int r0, int r1, int cols) {
  int j = 0;
  for (; j + 16 <= cols; j += 16) {
    v128_t a0 = wasm_v128_load(out + j), a1 = wasm_v128_load(out + j + 4);
    v128_t a2 = wasm_v128_load(out + j + 8), a3 = wasm_v128_load(out + j + 12);
    for (int i = r0; i < r1; i++) {
      const f32* r = x + (long)i * cols + j;
      a0 = wasm_f32x4_add(a0, wasm_v128_load(r));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(r + 4));
      a2 = wasm_f32x4_add(a2, wasm_v128_load(r + 8));
      a3 = wasm_f32x4_add(a3, wasm_v128_load(r + 12));
    }
    wasm_v128_store(out + j, a0); wasm_v128_store(out + j + 4, a1);
    wasm_v128_store(out + j + 8, a2); wasm_v128_store(out + j + 12, a3);
  }
  for (; j + 4 <= cols; j += 4) {
    v128_t a0 = wasm_v128_load(out + j);
    for (int i = r0; i < r1; i++) a0 = wasm_f32x4_add(a0, wasm_v128_load(x + (long)i * cols + j));
    wasm_v128_store(out + j, a0);
  }
  for (; j < cols; j++) {
    f32 acc = out[j];
    for (int i = r0; i < r1; i++) acc += x[(long)i * cols + j];
    out[j] = acc;
  }
}

// Max-pool gradient for images [n0, n1): each window's first maximum (row-major order, as on
// tfjs's cpu backend) receives the window's gradient. dx must be zeroed by the caller.
EXPORT(maxpool_grad)
void maxpool_grad(const f32* x, const f32* dy, f32* dx, int n0, int n1, int h, int w, int c,
                  int oh, int ow, int fh, int fw, int sh, int sw, int top, int left) {
  for (int n = n0; n < n1; n++) {
    const f32* xi = x + (long)n * h * w * c;
    f32* di = dx + (long)n * h * w * c;
    const f32* gi = dy + (long)n * oh * ow * c;
    __builtin_memset(di, 0, (unsigned long)h * w * c * sizeof(f32));
    for (int oy = 0; oy < oh; oy++) {
      int y0 = oy * sh - top, y1 = y0 + fh;
      if (y0 < 0) y0 = 0;
      if (y1 > h) y1 = h;
      for (int ox = 0; ox < ow; ox++) {
        int x0 = ox * sw - left, x1 = x0 + fw;
        if (x0 < 0) x0 = 0;
        if (x1 > w) x1 = w;
        const f32* g = gi + ((long)oy * ow + ox) * c;
        if (y0 >= y1 || x0 >= x1) continue;
        int ch = 0;
        // Four channels at a time: the running maximum and where it is, per lane.
        for (; ch + 4 <= c; ch += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t at = wasm_i32x4_splat(-1);
          for (int y = y0; y < y1; y++) {
            for (int xx = x0; xx < x1; xx++) {
              int idx = (y * w + xx) * c + ch;
              v128_t v = wasm_v128_load(xi + idx);
              v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              v128_t pos = wasm_i32x4_add(wasm_i32x4_splat(idx), wasm_i32x4_make(0, 1, 2, 3));
              at = wasm_v128_bitselect(pos, at, gt);
            }
          }
          int p0 = wasm_i32x4_extract_lane(at, 0), p1 = wasm_i32x4_extract_lane(at, 1);
          int p2 = wasm_i32x4_extract_lane(at, 2), p3 = wasm_i32x4_extract_lane(at, 3);
          if (p0 >= 0) di[p0] += g[ch];
          if (p1 >= 0) di[p1] += g[ch + 1];
          if (p2 >= 0) di[p2] += g[ch + 2];
          if (p3 >= 0) di[p3] += g[ch + 3];
        }
        for (; ch < c; ch++) {
          f32 best = -__builtin_inff();
          int at = -1;
          for (int y = y0; y < y1; y++) {
            for (int xx = x0; xx < x1; xx++) {
              int idx = (y * w + xx) * c + ch;
              if (xi[idx] > best) {
                best = xi[idx];
                at = idx;
              }
            }
          }
          if (at >= 0) di[at] += g[ch];
        }
      }
    }
  }
}

// Bias addition for rows [r0, r1) of a [rows][cols] tensor: out[r][j] = x[r][j] + b[j]
// (tfjs's Add of a Conv2D or Dense output and its bias). `pattern` holds b repeated four times
// (4·cols floats), so four rows are a whole number of vectors whatever cols is (6 in LeNet-5).
EXPORT(bias_add)
void bias_add(const f32* x, const f32* pattern, f32* out, int r0, int r1, int cols) {
  int r = r0;
  for (; r + 4 <= r1; r += 4) {
    const long base = (long)r * cols;
    for (int v = 0; v < cols; v++) {
      const long i = base + 4L * v;
      wasm_v128_store(out + i,
                      wasm_f32x4_add(wasm_v128_load(x + i), wasm_v128_load(pattern + 4 * v)));
    }
  }
  for (; r < r1; r++) {
    const long base = (long)r * cols;
    for (int j = 0; j < cols; j++) out[base + j] = x[base + j] + pattern[j];
  }
}

// dst[i] += src[i] for i in [0, n) (sums the partial results of parallel slices).
EXPORT(add_arrays)
void add_arrays(f32* dst, const f32* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i), wasm_v128_load(src + i)));
  }
  for (; i < n; i++) dst[i] += src[i];
}

// One Adam step for n weights, in exactly tfjs's order of float32 operations (AdamOptimizer):
//   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2)
//   w' = (m' / (1−β1ᵗ)) / (√(v' / (1−β2ᵗ)) + ε) · (−lr) + w
// c1 = 1−β1, c2 = 1−β2, a1 = 1−β1ᵗ, a2 = 1−β2ᵗ (all rounded to float32 by the caller, as tfjs
// rounds them into scalar tensors). Outputs may not alias inputs.
EXPORT(adam_update)
void adam_update(const f32* w, const f32* m, const f32* v, const f32* g, f32* w_out, f32* m_out,
                 f32* v_out, int n, f32 b1, f32 c1, f32 b2, f32 c2, f32 a1, f32 a2, f32 eps,
                 f32 neg_lr) {
  const v128_t vb1 = wasm_f32x4_splat(b1), vc1 = wasm_f32x4_splat(c1);
  const v128_t vb2 = wasm_f32x4_splat(b2), vc2 = wasm_f32x4_splat(c2);
  const v128_t va1 = wasm_f32x4_splat(a1), va2 = wasm_f32x4_splat(a2);
  const v128_t veps = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(neg_lr);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), vb1), wasm_f32x4_mul(gi, vc1));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), vb2),
                               wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), vc2));
    v128_t step = wasm_f32x4_div(wasm_f32x4_div(mi, va1),
                                 wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, va2)), veps));
    wasm_v128_store(m_out + i, mi);
    wasm_v128_store(v_out + i, vi);
    wasm_v128_store(w_out + i, wasm_f32x4_add(wasm_f32x4_mul(step, vlr), wasm_v128_load(w + i)));
  }
  for (; i < n; i++) {
    f32 gi = g[i];
    f32 mi = m[i] * b1 + gi * c1;
    f32 vi = v[i] * b2 + (gi * gi) * c2;
    f32 step = (mi / a1) / (__builtin_sqrtf(vi / a2) + eps);
    m_out[i] = mi;
    v_out[i] = vi;
    w_out[i] = step * neg_lr + w[i];
  }
}

// ReLU's gradient for elements [i0, i1): out = dy · step(x), where step(x) is 1 for x > 0, NaN
// for NaN x and 0 otherwise — tfjs's mul(dy, cast(step(x))) in one pass instead of three.
EXPORT(relu_grad)
void relu_grad(const f32* dy, const f32* x, f32* out, int i0, int i1) {
  const v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t s = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(xv, zero));
    s = wasm_v128_bitselect(xv, s, wasm_f32x4_ne(xv, xv));
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), s));
  }
  for (; i < i1; i++) {
    f32 xi = x[i];
    f32 s = xi > 0 ? 1.0f : (xi != xi ? xi : 0.0f);
    out[i] = dy[i] * s;
  }
}

// ---- Winograd F(2×2, 3×3): 3×3 stride-1 convolutions with 2.25× fewer multiplications ----
// (Lavin & Gray 2016). A 4×4 input tile d and a 3×3 filter g give a 2×2 output tile
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
// with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
// Aᵀ = [1 1 1 0; 0 1 −1 −1]. Summed over input channels, the ⊙ becomes 16 matrix products
// (one per tile position): M[p] = V[p] · U[p], tiles × c by c × o. Channels are the SIMD lanes
// of the transforms, so c and o must be multiples of 4.

// U[p][ci][co] = (G g Gᵀ)[p] for the filter w [3][3][c][o] (HWIO). With flip, the filter of the
// input gradient instead: g'[u][v][co][ci] = w[2−u][2−v][ci][co] (c and o swap roles: U is
// [16][o][c]).
EXPORT(winograd_filter)
void winograd_filter(const f32* w, f32* u, int c, int o, int flip) {
  const int rows = flip ? o : c, cols = flip ? c : o;
  for (int i = 0; i < rows; i++) {
    for (int j = 0; j < cols; j++) {
      f32 g[3][3];
      // (Scalars only: g is promoted to locals by the optimiser; build.sh checks no stack.)
      for (int a = 0; a < 3; a++) {
        for (int b = 0; b < 3; b++) {
          g[a][b] = flip ? w[((long)((2 - a) * 3 + (2 - b)) * c + j) * o + i]
                         : w[((long)(a * 3 + b) * c + i) * o + j];
        }
      }
      f32 s[4][3];
      for (int b = 0; b < 3; b++) {
        s[0][b] = g[0][b];
        s[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
        s[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
        s[3][b] = g[2][b];
      }
      for (int a = 0; a < 4; a++) {
        f32 t0 = s[a][0], t1 = 0.5f * (s[a][0] + s[a][1] + s[a][2]);
        f32 t2 = 0.5f * (s[a][0] - s[a][1] + s[a][2]), t3 = s[a][2];
        long base = (long)i * cols + j, plane = (long)rows * cols;
        u[(a * 4 + 0) * plane + base] = t0;
        u[(a * 4 + 1) * plane + base] = t1;
        u[(a * 4 + 2) * plane + base] = t2;
        u[(a * 4 + 3) * plane + base] = t3;
      }
    }
  }
}

// The input transform of one 4×4 tile for 4 channels from ci: v[p] = (Bᵀ d B)[p], p = 4a + b,
// stored at v + p·vplane. F(2×2, 3×3) and F(3×3, 2×2) share Bᵀ but for its last row:
// [0 1 0 −1] (last = 0) or [0 −1 0 1] (last = 1).
static inline void winograd_input_tile(const f32* d, long rs, int c, int ci, f32* v, long vplane,
                                       int last) {
#define ROW(a, r0, r1, r2, r3)                                                       \
  v128_t r0, r1, r2, r3;                                                             \
  {                                                                                  \
    const f32* dr = d + (a) * rs + ci;                                               \
    v128_t d0 = wasm_v128_load(dr), d1 = wasm_v128_load(dr + c);                     \
    v128_t d2 = wasm_v128_load(dr + 2 * c), d3 = wasm_v128_load(dr + 3 * c);         \
    r0 = wasm_f32x4_sub(d0, d2);                                                     \
    r1 = wasm_f32x4_add(d1, d2);                                                     \
    r2 = wasm_f32x4_sub(d2, d1);                                                     \
    r3 = last ? wasm_f32x4_sub(d3, d1) : wasm_f32x4_sub(d1, d3);                     \
  }
  ROW(0, r00, r01, r02, r03)
  ROW(1, r10, r11, r12, r13)
  ROW(2, r20, r21, r22, r23)
  ROW(3, r30, r31, r32, r33)
#undef ROW
#define COL(b, x0, x1, x2, x3)                                                       \
  wasm_v128_store(v + (0 * 4 + (b)) * vplane, wasm_f32x4_sub(x0, x2));               \
  wasm_v128_store(v + (1 * 4 + (b)) * vplane, wasm_f32x4_add(x1, x2));               \
  wasm_v128_store(v + (2 * 4 + (b)) * vplane, wasm_f32x4_sub(x2, x1));               \
  wasm_v128_store(v + (3 * 4 + (b)) * vplane,                                        \
                  last ? wasm_f32x4_sub(x3, x1) : wasm_f32x4_sub(x1, x3));
  COL(0, r00, r10, r20, r30)
  COL(1, r01, r11, r21, r31)
  COL(2, r02, r12, r22, r32)
  COL(3, r03, r13, r23, r33)
#undef COL
}

// C[t][j] = Σ_k A[t][k] · B[k][j]: A is T×K, B is K×N, C is T×N (N a multiple of 4).
static void gemm(const f32* a, const f32* b, f32* cm, int t_count, int k_count, int n) {
  int t = 0;
  for (; t + 4 <= t_count; t += 4) {
    const f32* a0 = a + (long)t * k_count;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
      v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const f32* bj = b + j;
      for (int k = 0; k < k_count; k++) {
        v128_t b0 = wasm_v128_load(bj + (long)k * n), b1 = wasm_v128_load(bj + (long)k * n + 4);
        v128_t s0 = wasm_v128_load32_splat(a0 + k);
        v128_t s1 = wasm_v128_load32_splat(a0 + k_count + k);
        v128_t s2 = wasm_v128_load32_splat(a0 + 2 * k_count + k);
        v128_t s3 = wasm_v128_load32_splat(a0 + 3 * k_count + k);
        c00 = madd(c00, s0, b0); c01 = madd(c01, s0, b1);
        c10 = madd(c10, s1, b0); c11 = madd(c11, s1, b1);
        c20 = madd(c20, s2, b0); c21 = madd(c21, s2, b1);
        c30 = madd(c30, s3, b0); c31 = madd(c31, s3, b1);
      }
      f32* cr = cm + (long)t * n + j;
      wasm_v128_store(cr, c00); wasm_v128_store(cr + 4, c01);
      wasm_v128_store(cr + n, c10); wasm_v128_store(cr + n + 4, c11);
      wasm_v128_store(cr + 2 * n, c20); wasm_v128_store(cr + 2 * n + 4, c21);
      wasm_v128_store(cr + 3 * n, c30); wasm_v128_store(cr + 3 * n + 4, c31);
    }
    for (; j < n; j += 4) {
      v128_t c0 = wasm_f32x4_splat(0), c1 = c0, c2 = c0, c3 = c0;
      for (int k = 0; k < k_count; k++) {
        v128_t b0 = wasm_v128_load(b + (long)k * n + j);
        c0 = madd(c0, wasm_v128_load32_splat(a0 + k), b0);
        c1 = madd(c1, wasm_v128_load32_splat(a0 + k_count + k), b0);
        c2 = madd(c2, wasm_v128_load32_splat(a0 + 2 * k_count + k), b0);
        c3 = madd(c3, wasm_v128_load32_splat(a0 + 3 * k_count + k), b0);
      }
      f32* cr = cm + (long)t * n + j;
      wasm_v128_store(cr, c0); wasm_v128_store(cr + n, c1);
      wasm_v128_store(cr + 2 * n, c2); wasm_v128_store(cr + 3 * n, c3);
    }
  }
  for (; t < t_count; t++) {
    const f32* a0 = a + (long)t * k_count;
    for (int j = 0; j < n; j += 4) {
      v128_t c0 = wasm_f32x4_splat(0);
      for (int k = 0; k < k_count; k++) {
        c0 = madd(c0, wasm_v128_load32_splat(a0 + k), wasm_v128_load(b + (long)k * n + j));
      }
      wasm_v128_store(cm + (long)t * n + j, c0);
    }
  }
}

// y[n][oy][ox][co] = Σ x[n][oy+u−top][ox+v−left][ci] · g[u][v][ci][co] for images [n0, n1),
// with U from winograd_filter (c in, o out). scratch per slice: hp·wp·c + 16·T·(c + o) floats,
// T = ⌈oh/2⌉·⌈ow/2⌉, hp = 2⌈oh/2⌉ + 2, wp = 2⌈ow/2⌉ + 2.
EXPORT(winograd_conv3x3)
void winograd_conv3x3(const f32* x, const f32* u, f32* y, f32* scratch, int n0, int n1, int h,
                      int w, int c, int o, int oh, int ow, int top, int left) {
  const int th = (oh + 1) / 2, tw = (ow + 1) / 2, tiles = th * tw;
  const int hp = 2 * th + 2, wpad = 2 * tw + 2;
  f32* xp = scratch;
  f32* vm = xp + (long)hp * wpad * c;      // V: [16][tiles][c]
  f32* mm = vm + 16L * tiles * c;           // M: [16][tiles][o]
  const long vplane = (long)tiles * c, mplane = (long)tiles * o;
  for (int n = n0; n < n1; n++) {
    pad_image(x + (long)n * h * w * c, xp, h, w, c, hp, wpad, top, left);
    for (int ty = 0; ty < th; ty++) {
      for (int tx = 0; tx < tw; tx++) {
        const int t = ty * tw + tx;
        const f32* d = xp + ((long)(2 * ty) * wpad + 2 * tx) * c;
        const long rs = (long)wpad * c;
        for (int ci = 0; ci < c; ci += 4) {
          winograd_input_tile(d, rs, c, ci, vm + (long)t * c + ci, vplane, 0);
        }
      }
    }
    for (int p = 0; p < 16; p++) {
      gemm(vm + p * vplane, u + (long)p * c * o, mm + p * mplane, tiles, c, o);
    }
    f32* yn = y + (long)n * oh * ow * o;
    for (int ty = 0; ty < th; ty++) {
      for (int tx = 0; tx < tw; tx++) {
        const int t = ty * tw + tx;
        const int two_rows = 2 * ty + 1 < oh, two_cols = 2 * tx + 1 < ow;
        for (int co = 0; co < o; co += 4) {
          const f32* m = mm + (long)t * o + co;
          // Aᵀ M: two rows of 4 (one per output row), each column b from M's column b.
#define Q(b, q0, q1)                                                          \
  v128_t q0, q1;                                                              \
  {                                                                           \
    v128_t m0 = wasm_v128_load(m + (0 * 4 + (b)) * mplane);                   \
    v128_t m1 = wasm_v128_load(m + (1 * 4 + (b)) * mplane);                   \
    v128_t m2 = wasm_v128_load(m + (2 * 4 + (b)) * mplane);                   \
    v128_t m3 = wasm_v128_load(m + (3 * 4 + (b)) * mplane);                   \
    q0 = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);                          \
    q1 = wasm_f32x4_sub(wasm_f32x4_sub(m1, m2), m3);                          \
  }
          Q(0, q00, q10)
          Q(1, q01, q11)
          Q(2, q02, q12)
          Q(3, q03, q13)
#undef Q
          // (Aᵀ M) A: each row gives the tile's two outputs in that row.
          f32* out = yn + ((long)(2 * ty) * ow + 2 * tx) * o + co;
          wasm_v128_store(out, wasm_f32x4_add(wasm_f32x4_add(q00, q01), q02));
          if (two_cols) wasm_v128_store(out + o, wasm_f32x4_sub(wasm_f32x4_sub(q01, q02), q03));
          if (two_rows) {
            out += (long)ow * o;
            wasm_v128_store(out, wasm_f32x4_add(wasm_f32x4_add(q10, q11), q12));
            if (two_cols) {
              wasm_v128_store(out + o, wasm_f32x4_sub(wasm_f32x4_sub(q11, q12), q13));
            }
          }
        }
      }
    }
  }
}

// ---- Winograd F(3×3, 2×2) for the filter gradient of a 3×3 stride-1 convolution ----
// dW[u][v] = Σ_{y,x} X[y+u][x+v] · dY[y][x] is, per 2×2 tile of dY, a correlation of a 4×4 tile
// of X with that 2×2 "filter", giving 3×3 outputs: Aᵀ [ (G dY Gᵀ) ⊙ (Bᵀ X B) ] A with
// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 −1 0 1], G = [1 0; ½ ½; ½ −½; 0 1],
// Aᵀ = [1 1 1 0; 0 1 −1 0; 0 1 1 1]. The sum over tiles and images moves inside: per tile
// position p, M[p] (c × o) accumulates V[p]ᵀ · D[p] — 16·T·c·o multiply-adds per image instead
// of 9·4T·c·o. dW = Aᵀ M A at the end (winograd_filter_grad_finish).

// Accumulates M [16][c][o] (zeroed by the caller) for images [n0, n1). scratch per slice:
// hp·wp·c + 2th·2tw·o + 16·T·(c + o) floats (T = th·tw, th = ⌈oh/2⌉, hp = 2th + 2).
EXPORT(winograd_filter_grad)
void winograd_filter_grad(const f32* x, const f32* dy, f32* acc, f32* scratch, int n0, int n1,
                          int h, int w, int c, int o, int oh, int ow, int top, int left) {
  const int th = (oh + 1) / 2, tw = (ow + 1) / 2, tiles = th * tw;
  const int hp = 2 * th + 2, wpad = 2 * tw + 2;
  f32* xp = scratch;
  f32* gp = xp + (long)hp * wpad * c;           // dY padded to 2th × 2tw
  f32* vm = gp + 4L * th * tw * o;              // V: [16][tiles][c]
  f32* dm = vm + 16L * tiles * c;               // D: [16][tiles][o]
  const long vplane = (long)tiles * c, dplane = (long)tiles * o;
  for (int n = n0; n < n1; n++) {
    pad_image(x + (long)n * h * w * c, xp, h, w, c, hp, wpad, top, left);
    pad_image(dy + (long)n * oh * ow * o, gp, oh, ow, o, 2 * th, 2 * tw, 0, 0);
    for (int ty = 0; ty < th; ty++) {
      for (int tx = 0; tx < tw; tx++) {
        const int t = ty * tw + tx;
        const f32* d = xp + ((long)(2 * ty) * wpad + 2 * tx) * c;
        const long rs = (long)wpad * c;
        for (int ci = 0; ci < c; ci += 4) {
          winograd_input_tile(d, rs, c, ci, vm + (long)t * c + ci, vplane, 1);
        }
        // G dY Gᵀ of the 2×2 tile of dY, 4 output channels at a time.
        const f32* g = gp + ((long)(2 * ty) * 2 * tw + 2 * tx) * o;
        const long gs = 2L * tw * o;
        const v128_t half = wasm_f32x4_splat(0.5f);
        for (int co = 0; co < o; co += 4) {
          v128_t g00 = wasm_v128_load(g + co), g01 = wasm_v128_load(g + o + co);
          v128_t g10 = wasm_v128_load(g + gs + co), g11 = wasm_v128_load(g + gs + o + co);
          // s = G g: rows 0..3, 2 columns each.
          v128_t s00 = g00, s01 = g01;
          v128_t s10 = wasm_f32x4_mul(half, wasm_f32x4_add(g00, g10));
          v128_t s11 = wasm_f32x4_mul(half, wasm_f32x4_add(g01, g11));
          v128_t s20 = wasm_f32x4_mul(half, wasm_f32x4_sub(g00, g10));
          v128_t s21 = wasm_f32x4_mul(half, wasm_f32x4_sub(g01, g11));
          v128_t s30 = g10, s31 = g11;
          f32* dd = dm + (long)t * o + co;
#define GROW(a, x0, x1)                                                                    \
  wasm_v128_store(dd + ((a) * 4 + 0) * dplane, x0);                                        \
  wasm_v128_store(dd + ((a) * 4 + 1) * dplane, wasm_f32x4_mul(half, wasm_f32x4_add(x0, x1))); \
  wasm_v128_store(dd + ((a) * 4 + 2) * dplane, wasm_f32x4_mul(half, wasm_f32x4_sub(x0, x1))); \
  wasm_v128_store(dd + ((a) * 4 + 3) * dplane, x1);
          GROW(0, s00, s01)
          GROW(1, s10, s11)
          GROW(2, s20, s21)
          GROW(3, s30, s31)
#undef GROW
        }
      }
    }
    // M[p] += V[p]ᵀ · D[p]: a 4(c) × 8(o) register block over all tiles.
    for (int p = 0; p < 16; p++) {
      const f32* vp = vm + p * vplane;
      const f32* dp = dm + p * dplane;
      f32* mp = acc + (long)p * c * o;
      for (int ci = 0; ci < c; ci += 4) {
        int co = 0;
        for (; co + 8 <= o; co += 8) {
          f32* r = mp + (long)ci * o + co;
          v128_t a00 = wasm_v128_load(r), a01 = wasm_v128_load(r + 4);
          v128_t a10 = wasm_v128_load(r + o), a11 = wasm_v128_load(r + o + 4);
          v128_t a20 = wasm_v128_load(r + 2 * o), a21 = wasm_v128_load(r + 2 * o + 4);
          v128_t a30 = wasm_v128_load(r + 3 * o), a31 = wasm_v128_load(r + 3 * o + 4);
          for (int t = 0; t < tiles; t++) {
            const f32* vt = vp + (long)t * c + ci;
            v128_t b0 = wasm_v128_load(dp + (long)t * o + co);
            v128_t b1 = wasm_v128_load(dp + (long)t * o + co + 4);
            v128_t s0 = wasm_v128_load32_splat(vt), s1 = wasm_v128_load32_splat(vt + 1);
            v128_t s2 = wasm_v128_load32_splat(vt + 2), s3 = wasm_v128_load32_splat(vt + 3);
            a00 = madd(a00, s0, b0); a01 = madd(a01, s0, b1);
            a10 = madd(a10, s1, b0); a11 = madd(a11, s1, b1);
            a20 = madd(a20, s2, b0); a21 = madd(a21, s2, b1);
            a30 = madd(a30, s3, b0); a31 = madd(a31, s3, b1);
          }
          wasm_v128_store(r, a00); wasm_v128_store(r + 4, a01);
          wasm_v128_store(r + o, a10); wasm_v128_store(r + o + 4, a11);
          wasm_v128_store(r + 2 * o, a20); wasm_v128_store(r + 2 * o + 4, a21);
          wasm_v128_store(r + 3 * o, a30); wasm_v128_store(r + 3 * o + 4, a31);
        }
        for (; co < o; co += 4) {
          f32* r = mp + (long)ci * o + co;
          v128_t a0 = wasm_v128_load(r), a1 = wasm_v128_load(r + o);
          v128_t a2 = wasm_v128_load(r + 2 * o), a3 = wasm_v128_load(r + 3 * o);
          for (int t = 0; t < tiles; t++) {
            const f32* vt = vp + (long)t * c + ci;
            v128_t b0 = wasm_v128_load(dp + (long)t * o + co);
            a0 = madd(a0, wasm_v128_load32_splat(vt), b0);
            a1 = madd(a1, wasm_v128_load32_splat(vt + 1), b0);
            a2 = madd(a2, wasm_v128_load32_splat(vt + 2), b0);
            a3 = madd(a3, wasm_v128_load32_splat(vt + 3), b0);
          }
          wasm_v128_store(r, a0); wasm_v128_store(r + o, a1);
          wasm_v128_store(r + 2 * o, a2); wasm_v128_store(r + 3 * o, a3);
        }
      }
    }
  }
}

// dw [3][3][c][o] = Aᵀ M A for M [16][c][o] from winograd_filter_grad.
EXPORT(winograd_filter_grad_finish)
void winograd_filter_grad_finish(const f32* acc, f32* dw, int c, int o) {
  const long plane = (long)c * o;
  for (long i = 0; i < plane; i += 4) {
#define Q(b, q0, q1, q2)                                        \
  v128_t q0, q1, q2;                                            \
  {                                                             \
    v128_t m0 = wasm_v128_load(acc + (0 * 4 + (b)) * plane + i); \
    v128_t m1 = wasm_v128_load(acc + (1 * 4 + (b)) * plane + i); \
    v128_t m2 = wasm_v128_load(acc + (2 * 4 + (b)) * plane + i); \
    v128_t m3 = wasm_v128_load(acc + (3 * 4 + (b)) * plane + i); \
    q0 = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);            \
    q1 = wasm_f32x4_sub(m1, m2);                                \
    q2 = wasm_f32x4_add(wasm_f32x4_add(m1, m2), m3);            \
  }
    Q(0, q00, q10, q20)
    Q(1, q01, q11, q21)
    Q(2, q02, q12, q22)
    Q(3, q03, q13, q23)
#undef Q
#define OUT(a, x0, x1, x2, x3)                                                            \
  wasm_v128_store(dw + ((a) * 3 + 0) * plane + i, wasm_f32x4_add(wasm_f32x4_add(x0, x1), x2)); \
  wasm_v128_store(dw + ((a) * 3 + 1) * plane + i, wasm_f32x4_sub(x1, x2));                \
  wasm_v128_store(dw + ((a) * 3 + 2) * plane + i, wasm_f32x4_add(wasm_f32x4_add(x1, x2), x3));
    OUT(0, q00, q01, q02, q03)
    OUT(1, q10, q11, q12, q13)
    OUT(2, q20, q21, q22, q23)
#undef OUT
  }
}

// Packs a filter w [kh][kw][c][o] for conv2d_direct: wp[ky][q][ob][8] = w[ky][kx][ci][8·ob + lane]
// (q = kx·c + ci; zero past o). wp: kh · kw·c · ⌈o/8⌉ · 8 floats.
EXPORT(pack_filter_direct)
void pack_filter_direct(const f32* w, f32* wp, int kh, int kw, int c, int o) {
  const int q_count = kw * c, blocks = (o + 7) / 8;
  for (int ky = 0; ky < kh; ky++) {
    for (int q = 0; q < q_count; q++) {
      for (int ob = 0; ob < blocks; ob++) {
        f32* dst = wp + (((long)ky * q_count + q) * blocks + ob) * 8;
        for (int lane = 0; lane < 8; lane++) {
          int co = ob * 8 + lane;
          dst[lane] = co < o ? w[((long)ky * q_count + q) * o + co] : 0.0f;
        }
      }
    }
  }
}

// Stores the first r (1..8) values of a0:a1 to out.
static inline void store_first(f32* out, v128_t a0, v128_t a1, int r) {
  if (r >= 8) {
    wasm_v128_store(out, a0);
    wasm_v128_store(out + 4, a1);
    return;
  }
  if (r >= 4) {
    wasm_v128_store(out, a0);
  } else {
    out[0] = wasm_f32x4_extract_lane(a0, 0);
    if (r > 1) out[1] = wasm_f32x4_extract_lane(a0, 1);
    if (r > 2) out[2] = wasm_f32x4_extract_lane(a0, 2);
    return;
  }
  if (r > 4) out[4] = wasm_f32x4_extract_lane(a1, 0);
  if (r > 5) out[5] = wasm_f32x4_extract_lane(a1, 1);
  if (r > 6) out[6] = wasm_f32x4_extract_lane(a1, 2);
}

// A direct convolution for images [n0, n1), for layers XNNPACK handles poorly (few input
// channels, e.g. LeNet-5's first layer): y[n][oy][ox][co] = Σ_{ky,q} xpad[oy·sh+ky][ox·sw·c+q] ·
// w[ky][q][co], as a GEMM of 4 output pixels × 8 output channels per register block.
// wp from pack_filter_direct; scratch: hp·wp·c floats (hp = (oh−1)·sh + kh, …).
EXPORT(conv2d_direct)
void conv2d_direct(const f32* x, const f32* wp, f32* y, f32* scratch, int n0, int n1, int h,
                   int w, int c, int oh, int ow, int o, int kh, int kw, int sh, int sw, int top,
                   int left) {
  const int hp = (oh - 1) * sh + kh, wpad = (ow - 1) * sw + kw;
  const int q_count = kw * c, blocks = (o + 7) / 8;
  const long row = (long)wpad * c, step = (long)sw * c, wrow = (long)blocks * 8;
  for (int n = n0; n < n1; n++) {
    pad_image(x + (long)n * h * w * c, scratch, h, w, c, hp, wpad, top, left);
    f32* yn = y + (long)n * oh * ow * o;
    for (int yy = 0; yy < oh; yy++) {
      int xx = 0;
      for (; xx + 4 <= ow; xx += 4) {
        for (int ob = 0; ob < blocks; ob++) {
          v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00;
          v128_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;
          for (int ky = 0; ky < kh; ky++) {
            const f32* xr = scratch + (long)(yy * sh + ky) * row + xx * step;
            const f32* wk = wp + (long)ky * q_count * wrow + ob * 8;
            for (int q = 0; q < q_count; q++) {
              v128_t w0 = wasm_v128_load(wk + q * wrow), w1 = wasm_v128_load(wk + q * wrow + 4);
              v128_t s0 = wasm_v128_load32_splat(xr + q);
              v128_t s1 = wasm_v128_load32_splat(xr + step + q);
              v128_t s2 = wasm_v128_load32_splat(xr + 2 * step + q);
              v128_t s3 = wasm_v128_load32_splat(xr + 3 * step + q);
              a00 = madd(a00, s0, w0); a01 = madd(a01, s0, w1);
              a10 = madd(a10, s1, w0); a11 = madd(a11, s1, w1);
              a20 = madd(a20, s2, w0); a21 = madd(a21, s2, w1);
              a30 = madd(a30, s3, w0); a31 = madd(a31, s3, w1);
            }
          }
          f32* out = yn + ((long)yy * ow + xx) * o + ob * 8;
          int r = o - ob * 8;
          store_first(out, a00, a01, r);
          store_first(out + o, a10, a11, r);
          store_first(out + 2 * o, a20, a21, r);
          store_first(out + 3 * o, a30, a31, r);
        }
      }
      for (; xx < ow; xx++) {
        for (int ob = 0; ob < blocks; ob++) {
          v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
          for (int ky = 0; ky < kh; ky++) {
            const f32* xr = scratch + (long)(yy * sh + ky) * row + xx * step;
            const f32* wk = wp + (long)ky * q_count * wrow + ob * 8;
            for (int q = 0; q < q_count; q++) {
              v128_t s0 = wasm_v128_load32_splat(xr + q);
              a0 = madd(a0, s0, wasm_v128_load(wk + q * wrow));
              a1 = madd(a1, s0, wasm_v128_load(wk + q * wrow + 4));
            }
          }
          store_first(yn + ((long)yy * ow + xx) * o + ob * 8, a0, a1, o - ob * 8);
        }
      }
    }
  }
}
