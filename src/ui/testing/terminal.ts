/**
 * Fake terminal streams for running the whole shell (runUi) in a test at a chosen size: a stdout that keeps
 * the last frame Ink wrote and reports columns/rows, a stdin that accepts key presses.
 */
import { EventEmitter } from 'node:events';

export class FakeTerminalOut extends EventEmitter {
  readonly frames: string[] = [];
  isTTY = false;
  constructor(public columns: number, public rows: number) {
    super();
  }
  write = (chunk: string): boolean => {
    this.frames.push(chunk);
    return true;
  };
  lastFrame(): string {
    return this.frames[this.frames.length - 1] ?? '';
  }
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export class FakeTerminalIn extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}
