/**
 * The TypeScript forms of nbgrader's source markers:
 *
 * - `// BEGIN SOLUTION` … `// END SOLUTION`: the instructor's solution, replaced in the student
 *   copy by a stub that throws "Not implemented yet";
 * - `// BEGIN HIDDEN TESTS` … `// END HIDDEN TESTS`: tests removed from the student copy and run
 *   only by the grader.
 *
 * A marker is a line of its own (indentation allowed).
 *
 * @module
 */

/** The two kinds of marked regions. */
export type MarkerKind = "solution" | "hidden-tests";

/** A marked region, as 1-based line numbers of its BEGIN and END lines. */
export interface MarkedRegion {
  kind: MarkerKind;
  begin: number;
  end: number;
}

/** A problem with the markers of a cell: 1-based line in the cell and what is wrong. */
export interface MarkerProblem {
  line: number;
  message: string;
}

const MARKER = /^(\s*)\/\/\s*(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS)\s*$/;
/**
 * A comment that looks like a marker (another case, `#` or block comments, `HIDDEN TEST`, text
 * after it…) but is not one: it would be released to students as it is, so it is an error.
 */
const NEAR_MARKER = /^\s*(?:\/\/+|\/\*+|#+)\s*(BEGIN|END)\s*(SOLUTION|HIDDEN[\s_-]*TESTS?)\b/i;

/** The line that replaces a solution region in the student copy. */
export const SOLUTION_STUB = 'throw new Error("Not implemented yet");';

function kindOf(word: string): MarkerKind {
  return word === "SOLUTION" ? "solution" : "hidden-tests";
}

function markerName(kind: MarkerKind, edge: "BEGIN" | "END"): string {
  return `// ${edge} ${kind === "solution" ? "SOLUTION" : "HIDDEN TESTS"}`;
}

/**
 * Find the marked regions of a cell's source and any unbalanced or nested markers.
 *
 * @example
 * ```ts
 * import { parseMarkers } from "./markers.ts";
 * const { regions } = parseMarkers("// BEGIN SOLUTION\nx = 1;\n// END SOLUTION");
 * console.log(regions); // [{ kind: "solution", begin: 1, end: 3 }]
 * ```
 */
export function parseMarkers(source: string): {
  regions: MarkedRegion[];
  problems: MarkerProblem[];
} {
  const regions: MarkedRegion[] = [];
  const problems: MarkerProblem[] = [];
  let open: { kind: MarkerKind; line: number } | undefined;
  source.split("\n").forEach((text, i) => {
    const m = text.match(MARKER);
    const line = i + 1;
    if (!m) {
      const near = text.match(NEAR_MARKER);
      if (near) {
        const edge = near[1].toUpperCase() as "BEGIN" | "END";
        const kind = /^s/i.test(near[2]) ? "solution" : "hidden-tests";
        problems.push({
          line,
          message: `${JSON.stringify(text.trim())} looks like a marker but is not one: write ` +
            `${markerName(kind, edge)} alone on its line`,
        });
      }
      return;
    }
    const kind = kindOf(m[3]);
    if (m[2] === "BEGIN") {
      if (open) {
        problems.push({
          line,
          message: `${markerName(kind, "BEGIN")} inside the ${
            markerName(open.kind, "BEGIN")
          } of line ${open.line} (markers cannot nest)`,
        });
        return;
      }
      open = { kind, line };
    } else if (!open) {
      problems.push({ line, message: `${markerName(kind, "END")} without a matching BEGIN` });
    } else if (open.kind !== kind) {
      problems.push({
        line,
        message: `${markerName(kind, "END")} closes the ${
          markerName(open.kind, "BEGIN")
        } of line ${open.line}`,
      });
    } else {
      regions.push({ kind, begin: open.line, end: line });
      open = undefined;
    }
  });
  if (open) {
    problems.push({
      line: open.line,
      message: `${markerName(open.kind, "BEGIN")} has no ${markerName(open.kind, "END")}`,
    });
  }
  return { regions, problems };
}

function rewrite(
  source: string,
  replace: (kind: MarkerKind, indent: string, body: string[], whole: string[]) => string[],
): string {
  const lines = source.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(MARKER);
    if (!m || m[2] !== "BEGIN") {
      out.push(lines[i]);
      continue;
    }
    const kind = kindOf(m[3]);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const e = lines[j].match(MARKER);
      if (e && e[2] === "END" && kindOf(e[3]) === kind) break;
      body.push(lines[j]);
    }
    out.push(...replace(kind, m[1], body, lines.slice(i, j + 1)));
    i = j;
  }
  return out.join("\n");
}

/**
 * The student version of a cell's source: solutions replaced by the stub, hidden tests removed.
 * Call {@linkcode parseMarkers} first: unbalanced markers make this undefined behaviour.
 */
export function studentSource(source: string): string {
  return rewrite(
    source,
    (kind, indent) =>
      kind === "solution" ? [`${indent}// YOUR CODE HERE`, `${indent}${SOLUTION_STUB}`] : [],
  );
}

/** The grader's version of a test cell: hidden tests kept, their marker lines dropped. */
export function graderSource(source: string): string {
  return rewrite(source, (kind, _indent, body, whole) => kind === "hidden-tests" ? body : whole);
}

/** The stub of a whole solution cell that has no markers (nbgrader replaces all of it). */
export function wholeCellStub(cellType: "code" | "markdown" | "raw"): string {
  return cellType === "code" ? `// YOUR CODE HERE\n${SOLUTION_STUB}` : "YOUR ANSWER HERE";
}

/** Whether a source contains any marker line. */
export function hasMarkers(source: string): boolean {
  return source.split("\n").some((line) => MARKER.test(line));
}

/** How many lines of hidden tests a source holds (feedback says "N lines of hidden tests ran"). */
export function countHiddenTestLines(source: string): number {
  return parseMarkers(source).regions
    .filter((r) => r.kind === "hidden-tests")
    .reduce((n, r) => n + (r.end - r.begin - 1), 0);
}
