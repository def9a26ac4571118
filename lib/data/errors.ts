/**
 * Typed errors of the dataset loaders. Each message names the file (or URL) and says what was
 * wrong and, where the user can act, what to do.
 *
 * @module
 */

/** A data file exists but its bytes are not what its format says (bad magic, truncated, …). */
export class DatasetFormatError extends Error {
  /** The file (or a description of the bytes) that failed to parse. */
  readonly file: string;

  /**
   * @param file The file that failed to parse.
   * @param problem What is wrong, e.g. "truncated: expected 7,840,016 bytes, got 1,000".
   */
  constructor(file: string, problem: string) {
    super(`Cannot read ${file}: ${problem}`);
    this.name = "DatasetFormatError";
    this.file = file;
  }
}

/** A file's SHA-256 differs from the one in `data/manifest.json`. */
export class ChecksumError extends Error {
  /** The file (or URL) whose bytes were checked. */
  readonly file: string;
  /** The SHA-256 the manifest expects. */
  readonly expected: string;
  /** The SHA-256 of the bytes found. */
  readonly actual: string;

  /**
   * @param file The file or URL checked.
   * @param expected The manifest's SHA-256 (hex).
   * @param actual The SHA-256 (hex) of the bytes found.
   * @param hint What to do about it.
   */
  constructor(file: string, expected: string, actual: string, hint = "") {
    super(
      `Checksum mismatch for ${file}: expected sha256 ${expected}, got ${actual}` +
        (hint ? `. ${hint}` : ""),
    );
    this.name = "ChecksumError";
    this.file = file;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A dataset is neither cached nor on the system and could not (or may not) be downloaded.
 * The message says which URL to fetch and where to put the file.
 */
export class DatasetUnavailableError extends Error {
  /** The dataset name, e.g. "mnist". */
  readonly dataset: string;

  /**
   * @param dataset The dataset name.
   * @param message The full explanation, with URLs and target paths.
   */
  constructor(dataset: string, message: string) {
    super(message);
    this.name = "DatasetUnavailableError";
    this.dataset = dataset;
  }
}
