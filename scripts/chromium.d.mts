/** The path of a Chromium to launch, or null (tests then skip with the reason). */
export function chromiumPath(): Promise<string | null>;
/** Flags for headless runs in containers (no sandbox: tests run as root in CI). */
export const CHROMIUM_ARGS: string[];
