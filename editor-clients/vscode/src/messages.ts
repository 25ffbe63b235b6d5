// Says each message once. The server shows how a failed search or a fill-all batch ended (with a "Show
// transcript" action), and the command's result carries the same text: without this the user gets two
// notifications for one event. Pure (no `vscode` import), unit-tested.

export class RecentMessages {
  private readonly said = new Map<string, number>();

  constructor(
    private readonly windowMs = 3000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `text` should be shown: not shown already within the window. Records it. */
  first(text: string): boolean {
    const now = this.now();
    for (const [said, at] of this.said) {
      if (now - at > this.windowMs) this.said.delete(said);
    }
    if (this.said.has(text)) return false;
    this.said.set(text, now);
    return true;
  }
}
