// For the CLI's tests: a stdout/stderr stand-in that keeps what was written.
export class CapturedOutput {
  text = '';
  isTTY = false;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}
