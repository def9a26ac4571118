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
// dw must be zeroed by the caller before the first slice. scratch: hp·wp·c floats, where
// hp = (oh−1)·sh + kh and wp = (ow−1)·sw + kw.
//
// With the image zero-padded, the kw·c values a filter row sees are contiguous, so dw is
// treated as [kh][q = kx·c + ci][co] and accumulated in 4(q) × 8(co) register blocks.
EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const f32* x, const f32* dy, f32* dw, f32* scratch, int n0, int n1,
                        int h, int w, int c, int oh, int ow, int o, int kh, int kw, int sh,
                        int sw, int top, int left) {
  const int hp = (oh - 1) * sh + kh, wp = (ow - 1) * sw + kw;
  const int q_count = kw * c;
  const long row = (long)wp * c;
  for (int n = n0; n < n1; n++) {
    pad_image(x + (long)n * h * w * c, scratch, h, w, c, hp, wp, top, left);
    const f32* g = dy + (long)n * oh * ow * o;
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
        for (; co < o; co++) {
          for (int i = 0; i < 4; i++) {
            f32 acc = dwk[(long)(q + i) * o + co];
            for (int y = 0; y < oh; y++) {
              const f32* xr = scratch + (long)(y * sh + ky) * row + q + i;
              const f32* gr = g + (long)y * ow * o + co;
              for (int xx = 0; xx < ow; xx++) acc += xr[(long)xx * sw * c] * gr[(long)xx * o];
            }
            dwk[(long)(q + i) * o + co] = acc;
          }
        }
      }
      for (; q < q_count; q++) {
        int co = 0;
        for (; co + 4 <= o; co += 4) {
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
        for (; co < o; co++) {
          f32 acc = dwk[(long)q * o + co];
          for (int y = 0; y < oh; y++) {
            const f32* xr = scratch + (long)(y * sh + ky) * row + q;
            const f32* gr = g + (long)y * ow * o + co;
            for (int xx = 0; xx < ow; xx++) acc += xr[(long)xx * sw * c] * gr[(long)xx * o];
          }
          dwk[(long)q * o + co] = acc;
        }
      }
    }
  }
}

// Input gradient of a stride-(sh, sw) convolution for images [n0, n1):
//   dx[n][oy·sh+ky−top][ox·sw+kx−left][ci] += Σ_co dy[n][oy][ox][co] · w[ky][kx][ci][co]
// wt: the filter as [kh][co][q = kx·c + ci] (transposed by the caller, once per call).
// scratch: hp·wp·c floats (the padded gradient of one image).
// Adds acc (8 values of one pixel's gradient) into out.
static inline void add8(f32* out, v128_t a0, v128_t a1) {
  wasm_v128_store(out, wasm_f32x4_add(wasm_v128_load(out), a0));
  wasm_v128_store(out + 4, wasm_f32x4_add(wasm_v128_load(out + 4), a1));
}

EXPORT(conv2d_input_grad)
void conv2d_input_grad(const f32* dy, const f32* wt, f32* dx, f32* scratch, int n0, int n1,
                       int h, int w, int c, int oh, int ow, int o, int kh, int kw, int sh, int sw,
                       int top, int left) {
  const int hp = (oh - 1) * sh + kh, wp = (ow - 1) * sw + kw;
  const int q_count = kw * c;
  const long row = (long)wp * c;
  const long step = (long)sw * c;  // from one output pixel's patch to the next one's
  for (int n = n0; n < n1; n++) {
    __builtin_memset(scratch, 0, (unsigned long)hp * wp * c * sizeof(f32));
    const f32* g = dy + (long)n * oh * ow * o;
    for (int y = 0; y < oh; y++) {
      for (int ky = 0; ky < kh; ky++) {
        f32* out_row = scratch + (long)(y * sh + ky) * row;
        const f32* wk = wt + (long)ky * o * q_count;
        int xx = 0;
        // Four output pixels at a time share each filter load: a 4(pixels) × 8(q) block.
        for (; xx + 4 <= ow; xx += 4) {
          const f32* gp = g + ((long)y * ow + xx) * o;
          f32* out = out_row + xx * step;
          int q = 0;
          for (; q + 8 <= q_count; q += 8) {
            v128_t a00 = wasm_f32x4_splat(0), a01 = a00, a10 = a00, a11 = a00;
            v128_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            const f32* wq = wk + q;
            for (int co = 0; co < o; co++) {
              v128_t w0 = wasm_v128_load(wq + (long)co * q_count);
              v128_t w1 = wasm_v128_load(wq + (long)co * q_count + 4);
              v128_t s0 = wasm_v128_load32_splat(gp + co);
              v128_t s1 = wasm_v128_load32_splat(gp + o + co);
              v128_t s2 = wasm_v128_load32_splat(gp + 2 * o + co);
              v128_t s3 = wasm_v128_load32_splat(gp + 3 * o + co);
              a00 = madd(a00, s0, w0); a01 = madd(a01, s0, w1);
              a10 = madd(a10, s1, w0); a11 = madd(a11, s1, w1);
              a20 = madd(a20, s2, w0); a21 = madd(a21, s2, w1);
              a30 = madd(a30, s3, w0); a31 = madd(a31, s3, w1);
            }
            add8(out + q, a00, a01);
            add8(out + step + q, a10, a11);
            add8(out + 2 * step + q, a20, a21);
            add8(out + 3 * step + q, a30, a31);
          }
          for (; q < q_count; q++) {
            f32 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int co = 0; co < o; co++) {
              f32 wv = wk[(long)co * q_count + q];
              s0 += gp[co] * wv; s1 += gp[o + co] * wv;
              s2 += gp[2 * o + co] * wv; s3 += gp[3 * o + co] * wv;
            }
            out[q] += s0; out[step + q] += s1; out[2 * step + q] += s2; out[3 * step + q] += s3;
          }
        }
        for (; xx < ow; xx++) {
          const f32* gp = g + ((long)y * ow + xx) * o;
          f32* out = out_row + xx * step;
          int q = 0;
          for (; q + 8 <= q_count; q += 8) {
            v128_t a0 = wasm_f32x4_splat(0), a1 = a0;
            const f32* wq = wk + q;
            for (int co = 0; co < o; co++) {
              v128_t s0 = wasm_v128_load32_splat(gp + co);
              a0 = madd(a0, s0, wasm_v128_load(wq + (long)co * q_count));
              a1 = madd(a1, s0, wasm_v128_load(wq + (long)co * q_count + 4));
            }
            add8(out + q, a0, a1);
          }
          for (; q < q_count; q++) {
            f32 acc = 0;
            for (int co = 0; co < o; co++) acc += gp[co] * wk[(long)co * q_count + q];
            out[q] += acc;
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
      for (int ix = 0; ix < w; ix++) {
        int px = ix + left;
        f32* dst = d + ((long)iy * w + ix) * c;
        if (px < 0 || px >= wp) {
          __builtin_memset(dst, 0, (unsigned long)c * sizeof(f32));
        } else {
          __builtin_memcpy(dst, scratch + (long)py * row + (long)px * c,
                           (unsigned long)c * sizeof(f32));
        }
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
