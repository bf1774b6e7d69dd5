// A small, strict flag parser: every flag is declared with its type, so an unknown flag or a
// bad value is a one-line usage error (exit code 2) instead of being silently ignored.

import { UsageError } from '../errors.js';

export type FlagType = 'string' | 'int' | 'number' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  default?: string | number | boolean;
  description: string;
  /** Placeholder shown in help, e.g. FILE. */
  value?: string;
  min?: number;
  max?: number;
  /** Values must be strictly greater than this (e.g. a learning rate: 0 changes nothing). */
  above?: number;
  choices?: readonly string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Positional arguments allowed: 'none' or 'many' (with a name for help). */
  positionals?: { name: string; min: number };
}

export type ParsedFlags = Record<string, string | number | boolean | undefined>;

export interface Parsed {
  flags: ParsedFlags;
  positionals: string[];
  help: boolean;
}

const INT_PATTERN = /^-?\d+$/;
const NUMBER_PATTERN = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** An integer environment value read by the CLI (SCRATCHNET_THREADS): same rule as an int flag. */
export function parseIntValue(name: string, raw: string, min: number, max: number): number {
  const v = Number(raw);
  if (!INT_PATTERN.test(raw) || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (plain decimal digits), got '${raw}'`);
  }
  return v;
}

function parseValue(name: string, spec: FlagSpec, raw: string): string | number | boolean {
  const flag = `--${name}`;
  switch (spec.type) {
    case 'string':
      if (raw === '') throw new UsageError(`${flag} needs a value`);
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(`${flag} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
      }
      return raw;
    case 'int':
    case 'number': {
      // Number() alone accepts '0x2', '1e2', ' 2', '' and 'Infinity': what a user types by
      // mistake would silently become another value. Integers: plain decimal digits only
      // ('2', '-3'; not '2.0', '1e2', '0x2', ' 2'). Numbers: decimal with an optional exponent.
      const pattern = spec.type === 'int' ? INT_PATTERN : NUMBER_PATTERN;
      const v = Number(raw);
      if (!pattern.test(raw) || !Number.isFinite(v) || (spec.type === 'int' && !Number.isSafeInteger(v))) {
        const [what, hint] = spec.type === 'int' ? ['an integer', 'plain decimal digits'] : ['a number', 'decimal, e.g. 0.003 or 3e-3'];
        throw new UsageError(`${flag} must be ${what}, got '${raw}' (${hint})`);
      }
      if (spec.above !== undefined && !(v > spec.above)) throw new UsageError(`${flag} must be greater than ${spec.above}, got ${raw}`);
      if (spec.min !== undefined && v < spec.min) throw new UsageError(`${flag} must be at least ${spec.min}, got ${raw}`);
      if (spec.max !== undefined && v > spec.max) throw new UsageError(`${flag} must be at most ${spec.max}, got ${raw}`);
      return v;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new UsageError(`${flag} takes no value (got '${raw}')`);
  }
}

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const flags: ParsedFlags = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      if (!arg.startsWith('--')) throw new UsageError(`unknown option '${arg}' (see scratchnet ${spec.name} --help)`);
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const fs = spec.flags[name];
      if (!fs) throw new UsageError(`unknown option '--${name}' (see scratchnet ${spec.name} --help)`);
      if (name in flags) throw new UsageError(`--${name} given twice`);
      let raw: string;
      if (eq >= 0) raw = arg.slice(eq + 1);
      else if (fs.type === 'boolean') raw = 'true';
      else {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
        raw = argv[++i];
      }
      flags[name] = parseValue(name, fs, raw);
      continue;
    }
    positionals.push(arg);
  }
  if (help) return { flags, positionals, help };
  if (!spec.positionals && positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}' (see scratchnet ${spec.name} --help)`);
  }
  if (spec.positionals && positionals.length < spec.positionals.min) {
    throw new UsageError(`missing ${spec.positionals.name} (see scratchnet ${spec.name} --help)`);
  }
  for (const [name, fs] of Object.entries(spec.flags)) {
    if (!(name in flags) && fs.default !== undefined) flags[name] = fs.default;
  }
  return { flags, positionals, help };
}

export function requireFlag(spec: CommandSpec, flags: ParsedFlags, name: string): string {
  const v = flags[name];
  if (v === undefined || v === '') throw new UsageError(`--${name} is required (see scratchnet ${spec.name} --help)`);
  return String(v);
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`${spec.summary}`, '', `Usage: ${spec.usage}`, '', 'Options:'];
  const entries = Object.entries(spec.flags).map(([name, fs]) => {
    const left = `  --${name}${fs.type === 'boolean' ? '' : ` ${fs.value ?? fs.type.toUpperCase()}`}`;
    const def = fs.default !== undefined && fs.type !== 'boolean' ? ` (default: ${fs.default})` : '';
    const choices = fs.choices ? ` [${fs.choices.join('|')}]` : '';
    return [left, `${fs.description}${choices}${def}`];
  });
  entries.push(['  --help', 'show this help']);
  const width = Math.max(...entries.map(([l]) => l.length)) + 2;
  for (const [l, r] of entries) lines.push(l.padEnd(width) + r);
  return lines.join('\n');
}
