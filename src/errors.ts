// User-facing errors: a bad file, a bad flag, a wrong shape. The CLI prints `message` on one
// line (no stack trace) and exits with `exitCode`: 1 for bad input, 2 for usage errors.

export class ScratchnetError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'ScratchnetError';
    this.exitCode = exitCode;
  }
}

/** A problem with a file's contents (corrupt, truncated, wrong format). */
export class FileFormatError extends ScratchnetError {
  readonly file: string;
  constructor(file: string, problem: string) {
    // Problems often quote the file's own text (a tensor name, a header key): escape control
    // characters so the message stays one printable line whatever the file holds.
    super(`${file}: ${problem}`.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), 1);
    this.name = 'FileFormatError';
    this.file = file;
  }
}

/** Shapes that do not fit together (wrong input size, mismatched parameters). */
export class ShapeError extends ScratchnetError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'ShapeError';
  }
}

/** A bad command-line flag or value; exit code 2. */
export class UsageError extends ScratchnetError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** A setting or value outside what it may be (a negative learning rate, a dropout ratio of 1,
 *  a label that is not a class, an unknown model kind): not a shape problem. */
export class ValueError extends ScratchnetError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'ValueError';
  }
}
