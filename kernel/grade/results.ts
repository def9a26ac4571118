/**
 * The grading results of a batch (`grades.json`) and their CSV exports (`grades.csv`, and a
 * Canvas gradebook import file).
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { Score } from "./score.ts";
import type { SkippedEntry } from "./submissions.ts";

/** The value of {@linkcode GradesFile.format}. */
export const GRADES_FORMAT = "convlab-grades";

/** One student's result. */
export interface SubmissionResult extends Score {
  student: string;
  /** What was graded. */
  submission: {
    /** Path of the folder or zip, as given. */
    path: string;
    kind: "folder" | "zip";
    /** SHA-256 of the submission's files. */
    sha256?: string;
    /** The notebook graded, relative to the submission. */
    notebook?: string;
  };
  /** Everything else worth knowing: tampering, notes, ignored files. */
  details: string[];
  /** Cache key: hash of the submission, the key and the settings that change results. */
  cacheKey?: string;
  /** Whether this result came from the cache. */
  cached: boolean;
  /** Seconds spent grading it (the original run's, for a cached result). */
  seconds: number;
  /** ISO time it was graded. */
  gradedAt: string;
  /** The feedback page, relative to the grades folder. */
  feedback?: string;
}

/** One question (test cell) of the assignment. */
export interface Question {
  gradeId: string;
  points: number;
  hidden: boolean;
}

/** `grades.json`. */
export interface GradesFile {
  format: typeof GRADES_FORMAT;
  version: 1;
  assignment: string;
  /** SHA-256 of the grading key. */
  keySha256: string;
  maxPoints: number;
  questions: Question[];
  settings: { timeout: number; notebookTimeout: number; memoryMb: number };
  /** `i/n` when this is one shard of a batch. */
  shard: string | null;
  generatedAt: string;
  students: SubmissionResult[];
  /** Entries of the submissions folder that were not submissions. */
  skipped: SkippedEntry[];
}

/** Points as people write them: `7.5`, `10`. */
export function formatPoints(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/**
 * `grades.csv`: student, total, max, one column per question, status, tampered, reason. Cells
 * that a spreadsheet would read as formulas are escaped (student ids and reasons are
 * untrusted).
 */
export function gradesCsv(grades: GradesFile): string {
  const header = [
    "student",
    "total",
    "max",
    ...grades.questions.map((q) => q.gradeId),
    "status",
    "tampered",
    "reason",
  ];
  const rows = grades.students.map((s) => {
    const byId = new Map(s.tests.map((t) => [t.gradeId, t.points]));
    return [
      s.student,
      formatPoints(s.total),
      formatPoints(s.max),
      ...grades.questions.map((q) => formatPoints(byId.get(q.gradeId) ?? 0)),
      s.status,
      s.tampered ? "yes" : "",
      s.reason,
    ];
  });
  return stringify([header, ...rows], { escape_formulas: true });
}

/**
 * A Canvas gradebook import file: Canvas matches rows on "SIS Login ID", which is the student
 * id here (name submission folders by Canvas login), and reads the score from the assignment's
 * column (name it as Canvas shows it, e.g. `Assignment 1 (12345)`).
 */
export function canvasCsv(grades: GradesFile, column = grades.assignment): string {
  const header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column];
  const possible = ["    Points Possible", "", "", "", "", formatPoints(grades.maxPoints)];
  const rows = grades.students.map((
    s,
  ) => [s.student, "", "", s.student, "", formatPoints(s.total)]);
  return stringify([header, possible, ...rows], { escape_formulas: true });
}

/** Counts of each status. */
export function statusCounts(students: SubmissionResult[]): Record<string, number> {
  const counts: Record<string, number> = {
    graded: 0,
    timeout: 0,
    crashed: 0,
    "invalid-notebook": 0,
    "missing-cells": 0,
  };
  for (const s of students) counts[s.status] = (counts[s.status] ?? 0) + 1;
  return counts;
}
