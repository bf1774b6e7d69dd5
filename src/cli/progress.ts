// A one-line progress bar (like tqdm) for the terminal: bar, step count, loss, steps/s, ETA.
// On a non-TTY stream (CI logs, pipes) it prints a plain line every few percent instead of
// redrawing, so logs stay readable.

export interface ProgressStream {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly total: number;
  private readonly label: string;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastPlainPercent = -1;
  private drawn = false;

  constructor(stream: ProgressStream, total: number, label: string) {
    this.stream = stream;
    this.total = total;
    this.label = label;
  }

  update(done: number, extra: string): void {
    const now = Date.now();
    const elapsed = (now - this.started) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = (this.total - done) / rate;
    const pct = Math.floor((100 * done) / this.total);
    const stats = `${done}/${this.total} ${extra} ${rate.toFixed(1)} steps/s ETA ${formatDuration(eta)}`;
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100 && done < this.total) return; // redraw at most 10x/s
      this.lastDraw = now;
      const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - stats.length - this.label.length - 12));
      const filled = Math.round((width * done) / this.total);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r\x1b[2K${this.label} ${String(pct).padStart(3)}% ${bar} ${stats}`);
      this.drawn = true;
    } else if (pct >= this.lastPlainPercent + 10 || done === this.total) {
      this.lastPlainPercent = pct - (pct % 10);
      this.stream.write(`${this.label} ${String(pct).padStart(3)}% ${stats}\n`);
    }
  }

  /** Print a line above the bar (e.g. an epoch summary) without breaking it. */
  log(line: string): void {
    if (this.stream.isTTY && this.drawn) this.stream.write('\r\x1b[2K');
    this.stream.write(line + '\n');
    this.drawn = false;
  }

  done(): void {
    if (this.stream.isTTY && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
