/**
 * `deno task grade merge <dirs>... --out <dir>`: combine the outputs of shards graded apart (a CI
 * matrix, a Kubernetes Indexed Job) into one set of reports, feedback pages included.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../notebook.ts";
import { GRADES_FORMAT, type GradesFile, type SubmissionResult } from "./results.ts";
import { writeReports } from "./grade.ts";

/** Thrown when shards do not belong together; says which and why. */
export class MergeError extends Error {
  override name = "MergeError";
}

async function readGrades(dir: string): Promise<GradesFile> {
  const file = join(dir, "grades.json");
  let json: GradesFile;
  try {
    json = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new MergeError(`${file}: cannot read grades (${(e as Error).message})`);
  }
  if (json.format !== GRADES_FORMAT || json.version !== 1 || !Array.isArray(json.students)) {
    throw new MergeError(`${file}: not a Convlab grades file`);
  }
  return json;
}

async function copyIfPresent(from: string, to: string): Promise<void> {
  let data: Uint8Array;
  try {
    data = await Deno.readFile(from);
  } catch {
    return;
  }
  await writeFileAtomic(to, data);
}

/**
 * Merge shard outputs into `out`.
 *
 * @throws {MergeError} when shards graded different keys, or one student appears with two
 * different results.
 * @example
 * ```ts ignore
 * await mergeGrades(["shard-1", "shard-2"], "grades");
 * ```
 */
export async function mergeGrades(
  dirs: string[],
  out: string,
  options: { canvasColumn?: string } = {},
): Promise<GradesFile> {
  if (dirs.length === 0) throw new MergeError("nothing to merge: name the shard folders");
  const shards = await Promise.all(
    dirs.map(async (dir) => ({ dir, grades: await readGrades(dir) })),
  );
  const first = shards[0];
  const students = new Map<string, { result: SubmissionResult; dir: string }>();
  for (const { dir, grades } of shards) {
    if (grades.keySha256 !== first.grades.keySha256) {
      throw new MergeError(
        `${dir} was graded with a different key (${grades.assignment} ${
          grades.keySha256.slice(0, 12)
        }) than ${first.dir} (${first.grades.assignment} ${first.grades.keySha256.slice(0, 12)})`,
      );
    }
    for (const result of grades.students) {
      const seen = students.get(result.student);
      if (seen && seen.result.cacheKey !== result.cacheKey) {
        throw new MergeError(
          `${result.student} was graded in both ${seen.dir} and ${dir} with different results ` +
            "(were the shards cut with different --shard counts?)",
        );
      }
      students.set(result.student, { result, dir });
    }
  }
  await Deno.mkdir(join(out, "feedback"), { recursive: true });
  await Deno.mkdir(join(out, "executed"), { recursive: true });
  for (const { result, dir } of students.values()) {
    if (result.feedback) {
      await copyIfPresent(join(dir, result.feedback), join(out, result.feedback));
    }
    await copyIfPresent(
      join(dir, "executed", `${result.student}.ipynb`),
      join(out, "executed", `${result.student}.ipynb`),
    );
  }
  const skipped = new Map(shards.flatMap((s) => s.grades.skipped).map((e) => [e.name, e]));
  const merged: GradesFile = {
    ...first.grades,
    shard: null,
    generatedAt: new Date().toISOString(),
    students: [...students.values()].map((s) => s.result).sort((a, b) =>
      a.student < b.student ? -1 : a.student > b.student ? 1 : 0
    ),
    skipped: [...skipped.values()],
  };
  await writeReports(out, merged, options.canvasColumn);
  return merged;
}
