export function tempDir(prefix: string): string;
export function removeTempDir(dir: string): void;
