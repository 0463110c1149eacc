/** The last lines a stage printed (20 by default): what a failure shows under its message. */
export class LineTail {
  private readonly kept: string[] = [];
  constructor(private readonly max = 20) {}

  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.max) this.kept.shift();
  }

  /** A copy of the lines kept, oldest first. */
  lines(): string[] {
    return [...this.kept];
  }
}
