// Turning a drawing into a 28×28 MNIST-like input, two ways. Plain JavaScript with no DOM, so the
// page and the Deno tests run the same code.
//
// An "ink" image is a Float32Array of width × height values in [0, 1], row-major, 1 = full ink.

/** Ink above this counts when finding the drawing's bounding box. */
export const INK_THRESHOLD = 0.1;

/** MNIST's digits fit a 20×20 box centred (by centre of mass) in a 28×28 field. */
export const FIELD = 28;
export const DIGIT_BOX = 20;

/**
 * Whether a drawing is empty: less ink than a short stroke (0.2% of the box's area).
 * @param {Float32Array} ink
 */
export function isEmpty(ink) {
  let mass = 0;
  for (let i = 0; i < ink.length; i++) mass += ink[i];
  return mass < ink.length * 0.002;
}

/**
 * The bounding box of the ink, or undefined when there is none.
 * @returns {{top: number, left: number, bottom: number, right: number} | undefined}
 */
export function inkBounds(ink, width, height, threshold = INK_THRESHOLD) {
  let top = height, left = width, bottom = -1, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > threshold) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  return bottom < 0 ? undefined : { top, left, bottom, right };
}

/** Per output index along one axis: the source pixels it covers and their weights. */
function areaWeights(start, end, outSize) {
  const step = (end - start) / outSize;
  const taps = [];
  for (let o = 0; o < outSize; o++) {
    const a = start + o * step;
    const b = a + step;
    const list = [];
    for (let i = Math.floor(a); i < Math.ceil(b); i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 1e-9) list.push([i, overlap / step]);
    }
    taps.push(list);
  }
  return taps;
}

/**
 * Area resampling (each output pixel is the mean of the source area it covers, like OpenCV's
 * INTER_AREA) of the region [x0, x1) × [y0, y1) of a source image to outWidth × outHeight.
 */
export function resampleArea(src, width, height, region, outWidth, outHeight) {
  const [x0, y0, x1, y1] = region;
  if (!(x1 > x0 && y1 > y0 && x0 >= 0 && y0 >= 0 && x1 <= width && y1 <= height)) {
    throw new RangeError(`Cannot resample: region [${region}] is not inside ${width}×${height}`);
  }
  const xs = areaWeights(x0, x1, outWidth);
  const ys = areaWeights(y0, y1, outHeight);
  const out = new Float32Array(outWidth * outHeight);
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      let sum = 0;
      for (const [sy, wy] of ys[oy]) {
        const row = sy * width;
        for (const [sx, wx] of xs[ox]) sum += wy * wx * src[row + sx];
      }
      out[oy * outWidth + ox] = sum;
    }
  }
  return out;
}

/** The course's preprocessing (8-4): the whole box resized to 28×28. */
export function plainResize(ink, width, height) {
  return resampleArea(ink, width, height, [0, 0, width, height], FIELD, FIELD);
}

/** Centre of mass `[x, y]` of an image, pixel centres at i + 0.5. */
export function centreOfMass(image, width, height) {
  let mass = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = image[y * width + x];
      mass += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return mass > 0 ? [sx / mass, sy / mass] : [width / 2, height / 2];
}

/**
 * MNIST's preprocessing: crop to the ink's bounding box, scale it to fit 20×20 keeping its
 * aspect ratio (area resampling, so strokes get grey edges as in MNIST), and place it in a 28×28
 * field so that its centre of mass is at the centre. An empty drawing gives all zeros.
 */
export function mnistStyle(ink, width, height) {
  const field = new Float32Array(FIELD * FIELD);
  const bounds = inkBounds(ink, width, height);
  if (!bounds) return field;
  const boxWidth = bounds.right - bounds.left + 1;
  const boxHeight = bounds.bottom - bounds.top + 1;
  const scale = DIGIT_BOX / Math.max(boxWidth, boxHeight);
  const w = Math.max(1, Math.min(DIGIT_BOX, Math.round(boxWidth * scale)));
  const h = Math.max(1, Math.min(DIGIT_BOX, Math.round(boxHeight * scale)));
  const digit = resampleArea(
    ink,
    width,
    height,
    [bounds.left, bounds.top, bounds.right + 1, bounds.bottom + 1],
    w,
    h,
  );
  const [cx, cy] = centreOfMass(digit, w, h);
  const left = Math.min(FIELD - w, Math.max(0, Math.round(FIELD / 2 - cx)));
  const top = Math.min(FIELD - h, Math.max(0, Math.round(FIELD / 2 - cy)));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) field[(top + y) * FIELD + left + x] = Math.min(1, digit[y * w + x]);
  }
  return field;
}
